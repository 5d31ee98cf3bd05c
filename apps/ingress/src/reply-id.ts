import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUIDv7: time-ordered, so reply ids sort by arrival and index well (RFC 9562 §5.7). The
 * random bits come from randomUUID, which draws from a cached entropy pool: a randomBytes call
 * per request cost 2 % of the ingress.
 */
export function newReplyId(now = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V already the variant
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

/** A reply id as a caller may spell it (any case), in the lower case it is stored in; else undefined. */
export function readReplyId(text: string): string | undefined {
  return UUID.test(text) ? text.toLowerCase() : undefined;
}
