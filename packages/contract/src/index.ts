export {
  ApiError,
  apiError,
  apiErrorWithHeaders,
  ERROR_STATUSES,
  type ErrorCode,
} from './errors.ts';
export {
  toFormValue,
  isEmptyList,
  fieldValue,
  type FormValue,
  type FormMap,
} from './form-value.ts';
export {
  readText,
  readBoolean,
  readPositiveInt,
  readTicketNumber,
  isEmail,
  parseCreated,
} from './coerce.ts';
export {
  REPLY_QUEUE,
  REPLY_JOB,
  replyJobId,
  replyJobV1,
  validateReplyJob,
  replyJobJsonSchema,
  type ReplyJob,
  type ReplyAuthor,
  type ReplyJobCheck,
} from './reply-job.ts';
export {
  enqueueReply,
  REPLY_JOB_OPTIONS,
  type ReplyJobQueue,
  type ReplyJobOptions,
} from './enqueue-reply.ts';
export {
  readCustomFields,
  resolveCustomFields,
  MAX_CUSTOM_FIELD_BYTES,
  type CustomFieldInput,
  type CustomFieldDefinition,
} from './custom-fields.ts';
export { decodeBase64 } from './decode-base64.ts';
export { parsePhpSerializedArray, type PhpScalar } from './parse-php-serialized.ts';
export { formatBytes } from './format-bytes.ts';
export {
  notificationMessageId,
  ticketThreadId,
  readNotificationMessageId,
} from './notification-message-id.ts';
export { LOOP_HEADER } from './notification-headers.ts';
export { attachmentLabel, checkAttachmentName, storableName } from './attachment-name.ts';
export {
  attachmentsTooLargeInTotal,
  attachmentTooLarge,
  readAttachments,
  type AttachmentLimits,
  type DecodedAttachment,
} from './read-attachments.ts';
export {
  NOTIFICATION_QUEUE,
  EMAIL_JOB,
  WEBHOOK_JOB,
  notificationJobId,
  readNotificationJob,
  type NotificationJob,
} from './notification-job.ts';
export { describeDeadReason, type DeadReason } from './dead-reasons.ts';
export { redactJobData } from './redact-job-data.ts';
