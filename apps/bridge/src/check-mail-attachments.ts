import {
  apiError,
  attachmentLabel,
  attachmentsTooLargeInTotal,
  attachmentTooLarge,
  checkAttachmentName,
  storableName,
  type AttachmentLimits,
} from '@ticketflow/contract';
import type { MailPart } from './read-message.ts';

/** A file of the message that passed the rules, ready to stage. */
export interface CheckedPart {
  /** The name as the message gave it (control characters removed): the job's `name`. */
  name: string;
  bytes: Uint8Array;
}

/** Extensions for parts that carry no name (an inline image referenced by Content-ID). */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

/**
 * Applies the HTTP path's attachment rules (API.md §6) to a message's files, inline ones
 * included: the same name check (`checkAttachmentName`: base name, allowed extensions, never
 * an executable), the per-file and total sizes and the count. A part without a name is called
 * `part-<n>.<extension of its type>`. Pure.
 *
 * @throws ApiError `invalid_attachment` or `payload_too_large`, naming the part, as the API does.
 */
export function checkMailAttachments(
  parts: readonly MailPart[],
  limits: AttachmentLimits,
): CheckedPart[] {
  if (parts.length > limits.count) {
    throw apiError('payload_too_large', 'Attachment count', `${limits.count} attachments`);
  }
  let total = 0;
  return parts.map((part, i) => {
    const position = i + 1;
    const name = storableName(
      part.filename ?? `part-${position}.${EXTENSIONS[part.mimeType] ?? 'bin'}`,
    );
    checkAttachmentName(position, name, limits.extensions);
    if (part.bytes.length > limits.bytes) {
      throw attachmentTooLarge(attachmentLabel(position, name), limits);
    }
    total += part.bytes.length;
    if (total > limits.totalBytes) throw attachmentsTooLargeInTotal(limits);
    return { name, bytes: part.bytes };
  });
}
