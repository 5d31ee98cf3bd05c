import { describe, it, expect } from 'vitest';

describe('the public interface of @ticketflow/contract', () => {
  it('exports exactly these names, so adding or dropping an export is a deliberate change', async () => {
    expect(Object.keys(await import('./index.ts')).sort()).toMatchInlineSnapshot(`
      [
        "ApiError",
        "EMAIL_JOB",
        "ERROR_STATUSES",
        "LOOP_HEADER",
        "MAX_CUSTOM_FIELD_BYTES",
        "NOTIFICATION_QUEUE",
        "REPLY_JOB",
        "REPLY_JOB_OPTIONS",
        "REPLY_QUEUE",
        "WEBHOOK_JOB",
        "apiError",
        "apiErrorWithHeaders",
        "attachmentLabel",
        "attachmentTooLarge",
        "attachmentsTooLargeInTotal",
        "checkAttachmentName",
        "decodeBase64",
        "describeDeadReason",
        "enqueueReply",
        "fieldValue",
        "formatBytes",
        "isEmail",
        "isEmptyList",
        "notificationJobId",
        "notificationMessageId",
        "parseCreated",
        "parsePhpSerializedArray",
        "readAttachments",
        "readBoolean",
        "readCustomFields",
        "readNotificationJob",
        "readNotificationMessageId",
        "readPositiveInt",
        "readText",
        "readTicketNumber",
        "redactJobData",
        "replyJobId",
        "replyJobJsonSchema",
        "replyJobV1",
        "resolveCustomFields",
        "storableName",
        "ticketThreadId",
        "toFormValue",
        "validateReplyJob",
      ]
    `);
  });
});
