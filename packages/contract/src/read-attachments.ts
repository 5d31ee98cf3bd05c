import { attachmentLabel, checkAttachmentName, storableName } from './attachment-name.ts';
import { decodeBase64 } from './decode-base64.ts';
import { apiError } from './errors.ts';
import { formatBytes } from './format-bytes.ts';
import { isEmptyList, toFormValue, type FormMap, type FormValue } from './form-value.ts';

/** API.md §3/§6 limits on attachments, with the extension allow-list. */
export interface AttachmentLimits {
  count: number;
  bytes: number;
  totalBytes: number;
  extensions: readonly string[];
}

/** An attachment whose bytes came inside the request (base64), decoded and checked. */
export interface DecodedAttachment {
  /** The sanitised display name. */
  name: string;
  /** The name as sent. */
  originalName: string;
  data: Buffer;
}

/** What the request's file parts (staged while the body streamed in) already used of the limits. */
export interface FilePartsUsage {
  count: number;
  bytes: number;
}

/**
 * Reads `attachments` sent as text, in every shape API.md §6 accepts: base64 of a JSON array of
 * `{name, data}`, the JSON array itself (JSON bodies, or raw JSON text), and PHP form arrays
 * `attachments[0][name]=…&attachments[0][data]=…`. `""`, `"[]"` and `"W10="` mean none.
 * `data` is base64 of the bytes (standard or URL-safe, whitespace ignored). Unlike WHMCS, a
 * bad attachment is refused naming it, never dropped. They come after the file parts: numbered
 * from the next position, and counted with them against the count and total limits.
 */
export function readAttachments(
  value: FormValue | undefined,
  limits: AttachmentLimits,
  fileParts: FilePartsUsage = { count: 0, bytes: 0 },
): DecodedAttachment[] {
  const items = attachmentItems(value);
  if (fileParts.count + items.length > limits.count) throw tooMany(limits.count);
  // File parts are staged concurrently, each bounded by what the others had used when it began,
  // so together they can still pass the total: checked here, with or without text attachments.
  if (fileParts.bytes > limits.totalBytes) throw attachmentsTooLargeInTotal(limits);
  let total = fileParts.bytes;
  return items.map((item, i) => {
    const position = fileParts.count + 1 + i;
    const fields = item instanceof Map ? (item as FormMap) : undefined;
    const rawName = fields?.get('name');
    const rawData = fields?.get('data');
    if (typeof rawName !== 'string' || typeof rawData !== 'string') {
      throw apiError(
        'invalid_attachment',
        `Attachment ${position}: send an object with a name and base64 data`,
      );
    }
    const name = checkAttachmentName(position, rawName, limits.extensions);
    const label = attachmentLabel(position, rawName);
    // Decoded size is at most 3/4 of the text: refuse an oversize attachment before decoding it.
    // Whitespace only makes it smaller, so the text's own length clears most attachments
    // without the extra pass over the text that stripping it takes.
    if (
      decodedAtMost(rawData) > limits.bytes + 2 &&
      decodedAtMost(rawData.replace(/\s+/g, '')) > limits.bytes + 2
    ) {
      throw attachmentTooLarge(label, limits);
    }
    const data = decodeBase64(rawData);
    if (!data) throw apiError('invalid_attachment', `${label}: data is not valid base64`);
    if (data.length > limits.bytes) throw attachmentTooLarge(label, limits);
    total += data.length;
    if (total > limits.totalBytes) throw attachmentsTooLargeInTotal(limits);
    return { name, originalName: storableName(rawName), data };
  });
}

/** The most bytes base64 text of this length can decode to. */
function decodedAtMost(text: string): number {
  return Math.floor((text.length * 3) / 4);
}

/** The 413 for one attachment over the per-file limit; `label` names it (attachmentLabel). */
export function attachmentTooLarge(label: string, limits: AttachmentLimits) {
  return apiError('payload_too_large', label, formatBytes(limits.bytes));
}

/** The 413 for a request whose attachments together exceed the total limit. */
export function attachmentsTooLargeInTotal(limits: AttachmentLimits) {
  return apiError('payload_too_large', 'Attachments in total', formatBytes(limits.totalBytes));
}

/** The 413 for one attachment too many. */
function tooMany(count: number) {
  return apiError('payload_too_large', 'Attachment count', `${count} attachments`);
}

function attachmentItems(value: FormValue | undefined): FormValue[] {
  if (isEmptyList(value)) return [];
  if (Array.isArray(value)) return value;
  // PHP form arrays with explicit indices (`attachments[1][name]`) arrive keyed: keep their order.
  if (value instanceof Map) return [...(value as FormMap).values()];
  if (typeof value !== 'string') throw notAList();
  const text = value.trim();
  const json = text.startsWith('[') ? text : decodeBase64(text)?.toString('utf8').trim();
  if (json === undefined) {
    throw apiError(
      'invalid_parameter',
      'attachments',
      'not valid base64 (send base64 of a JSON array of {name, data})',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw apiError('invalid_parameter', 'attachments', 'not a valid JSON array of {name, data}');
  }
  // The same conversion as every request body: objects become Maps, no key reaches a prototype.
  const items = toFormValue(parsed);
  if (!Array.isArray(items)) throw notAList();
  return items;
}

function notAList() {
  return apiError(
    'invalid_parameter',
    'attachments',
    'send a list of {name, data}, or base64 of its JSON',
  );
}
