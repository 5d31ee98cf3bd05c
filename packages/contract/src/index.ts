export {
  ApiError,
  apiError,
  apiErrorWithHeaders,
  ERROR_STATUSES,
  type ErrorCode,
} from './errors.ts';
export { toFormValue, isEmptyList, type FormValue, type FormMap } from './form-value.ts';
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
