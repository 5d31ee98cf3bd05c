import { createHash } from 'node:crypto';

/** Longest Message-ID kept as it is in a key; the contract allows keys of 512 characters. */
const MAX_KEY_ID = 400;

/**
 * The reply's dedupe key (API.md §9): `email:<mailbox>:<Message-ID>`, so the same message read
 * twice (a re-poll, two bridge processes, an LMTP retry) is one reply. A message without a
 * Message-ID (or with one too long or holding control characters) is keyed by the SHA-256 of
 * its bytes instead: identical bytes are the same message.
 */
export function mailDedupeKey(
  mailbox: string,
  messageId: string | undefined,
  raw: Uint8Array,
): string {
  const id = messageId?.trim().replace(/^<|>$/g, '') ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (id !== '' && id.length <= MAX_KEY_ID && !/[\u0000-\u001f\u007f\s]/.test(id)) {
    return `email:${mailbox}:${id}`;
  }
  return `email:${mailbox}:sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * The reply id of a dedupe key: a UUID (version 8, RFC 9562 §5.8) from its SHA-256. Every copy
 * of a message gets the same reply id, so every bridge answers the id the stored reply has,
 * and BullMQ keeps one job (`reply-<replyid>`) for copies that arrive together.
 */
export function mailReplyId(dedupeKey: string): string {
  const bytes = createHash('sha256').update(`ticketflow-email-reply:${dedupeKey}`).digest();
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
