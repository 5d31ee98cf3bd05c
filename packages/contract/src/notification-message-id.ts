import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * 16 of HMAC-SHA256's 32 bytes: 128 bits is beyond guessing and keeps the id short enough for
 * mail clients that show it. Written as 22 base64url characters, an alphabet with no '.' or
 * '@', so the id splits on those unambiguously.
 */
const MAC_BYTES = 16;
const REPLY_UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A host name or an address literal: nothing that could end the header or the id early. */
const DOMAIN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;
/**
 * Reading is strict about everything the mac does not cover: one spelling of the ticket id
 * (no leading zeros), a lowercase uid, exactly 22 mac characters. Only the domain is free, as
 * a relay or an older installation may have written another.
 */
const ID =
  /^tf\.([1-9][0-9]{0,15})\.(?:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.)?([A-Za-z0-9_-]{22})@[^\s<>@]+$/;

/**
 * The Message-ID of one notification: `<tf.{ticketId}.{replyUid}.{mac}@{domain}>`. The mac
 * (first 16 bytes of HMAC-SHA256 over `tf.{ticketId}.{replyUid}`) makes the id unforgeable,
 * so the email bridge can trust the ticket it names when a reply quotes it.
 *
 * @throws RangeError for a ticket id that is not a positive safe integer, a reply uid that is
 *   not a lowercase UUID, an empty key or a domain that is not a host name.
 */
export function notificationMessageId(
  ref: { ticketId: number; replyUid: string },
  key: string,
  domain: string,
): string {
  checkTicketId(ref.ticketId);
  if (!REPLY_UID.test(ref.replyUid)) {
    throw new RangeError(`replyUid must be a lowercase UUID, got ${JSON.stringify(ref.replyUid)}`);
  }
  const subject = `tf.${ref.ticketId}.${ref.replyUid}`;
  return `<${subject}.${mac(subject, key)}@${checkDomain(domain)}>`;
}

/**
 * The ticket's thread anchor, `<tf.{ticketId}.{mac}@{domain}>` with the mac over
 * `tf.{ticketId}`. No message carries it as its own Message-ID; every notification of the
 * ticket lists it first in References, so clients thread them all under one ticket even when
 * an earlier notification is missing.
 *
 * @throws RangeError as {@link notificationMessageId} does.
 */
export function ticketThreadId(ticketId: number, key: string, domain: string): string {
  checkTicketId(ticketId);
  const subject = `tf.${ticketId}`;
  return `<${subject}.${mac(subject, key)}@${checkDomain(domain)}>`;
}

/**
 * Reads a notification Message-ID or a thread anchor back: the ticket id, and the reply uid
 * for a notification. Tolerates surrounding whitespace and missing angle brackets (clients
 * differ in what they keep), and any domain. Anything else, including an id whose mac does
 * not verify under `key`, is undefined: a forged or altered id matches nothing.
 */
export function readNotificationMessageId(
  id: string,
  key: string,
): { ticketId: number; replyUid?: string } | undefined {
  const match = ID.exec(unbracket(id.trim()) ?? '');
  if (!match || key === '') return undefined;
  const [, ticket = '', replyUid, given = ''] = match;
  const ticketId = Number(ticket);
  if (!Number.isSafeInteger(ticketId)) return undefined;
  const subject = replyUid === undefined ? `tf.${ticket}` : `tf.${ticket}.${replyUid}`;
  // Compared as text, not as decoded bytes: the last base64url character carries 4 bits
  // no decoder looks at, and comparing bytes would accept 16 spellings of each mac.
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(mac(subject, key)))) return undefined;
  return replyUid === undefined ? { ticketId } : { ticketId, replyUid };
}

function mac(subject: string, key: string): string {
  // An empty key would make every id computable by anyone.
  if (key === '') throw new RangeError('the Message-ID key must not be empty');
  return createHmac('sha256', key)
    .update(subject)
    .digest()
    .subarray(0, MAC_BYTES)
    .toString('base64url');
}

function checkTicketId(ticketId: number): void {
  if (!Number.isSafeInteger(ticketId) || ticketId < 1) {
    throw new RangeError(`ticketId must be a positive integer, got ${ticketId}`);
  }
}

function checkDomain(domain: string): string {
  if (!DOMAIN.test(domain)) {
    throw new RangeError(
      `the Message-ID domain must be a host name, got ${JSON.stringify(domain)}`,
    );
  }
  return domain;
}

/** `<x>` or `x`; a lone bracket on one side is not an id. */
function unbracket(text: string): string | undefined {
  const opens = text.startsWith('<');
  const closes = text.endsWith('>');
  if (opens !== closes) return undefined;
  return opens ? text.slice(1, -1) : text;
}
