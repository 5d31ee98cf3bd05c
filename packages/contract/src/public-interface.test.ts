import { describe, it, expect } from 'vitest';

describe('the public interface of @ticketflow/contract', () => {
  it('exports exactly these names, so adding or dropping an export is a deliberate change', async () => {
    expect(Object.keys(await import('./index.ts')).sort()).toMatchInlineSnapshot(`
      [
        "ApiError",
        "ERROR_STATUSES",
        "MAX_CUSTOM_FIELD_BYTES",
        "REPLY_JOB",
        "REPLY_QUEUE",
        "apiError",
        "apiErrorWithHeaders",
        "attachmentLabel",
        "attachmentTooLarge",
        "attachmentsTooLargeInTotal",
        "checkAttachmentName",
        "decodeBase64",
        "fieldValue",
        "formatBytes",
        "isEmail",
        "isEmptyList",
        "parseCreated",
        "parsePhpSerializedArray",
        "readAttachments",
        "readBoolean",
        "readCustomFields",
        "readPositiveInt",
        "readText",
        "readTicketNumber",
        "replyJobId",
        "replyJobJsonSchema",
        "replyJobV1",
        "resolveCustomFields",
        "storableName",
        "toFormValue",
        "validateReplyJob",
      ]
    `);
  });
});
