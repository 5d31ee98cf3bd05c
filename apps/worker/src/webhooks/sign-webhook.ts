import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
/** 24 bytes is what Svix issues; 16..64 keeps HMAC-SHA256 keys meaningful without waste. */
const SECRET_BYTES = 24;
const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Signs one delivery the Standard Webhooks way: `v1,` then the base64 HMAC-SHA256 of
 * `${id}.${timestampS}.${body}`, keyed with the bytes behind `whsec_`. Receivers verify it with
 * any Standard Webhooks library, so the exact byte string of `body` must be what is sent.
 *
 * @throws Error when `secret` is not a valid `whsec_` secret (see {@link isWebhookSecret}), or
 *   RangeError when `timestampS` is not whole seconds.
 */
export function signWebhook(secret: string, id: string, timestampS: number, body: string): string {
  const key = decodeSecret(secret);
  if (key === undefined) {
    // The secret itself stays out of the message: it ends up in logs and dead letters.
    throw new Error(
      'webhook secrets must be "whsec_" followed by base64 of 16 to 64 bytes; create one with newWebhookSecret()',
    );
  }
  // Receivers parse the header as an integer, so a fractional value could never verify.
  if (!Number.isSafeInteger(timestampS) || timestampS < 0) {
    throw new RangeError(`webhook timestamps are whole seconds since 1970, not ${timestampS}`);
  }
  const mac = createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** A fresh endpoint secret: `whsec_` and base64 of 24 random bytes, as Svix issues them. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** Whether `value` is `whsec_` followed by canonical base64 of 16 to 64 bytes. */
export function isWebhookSecret(value: string): boolean {
  return decodeSecret(value) !== undefined;
}

/**
 * The headers of one delivery: the three Standard Webhooks headers, the JSON content type and
 * a user agent receivers can allow-list.
 */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampS: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': signWebhook(secret, id, timestampS, body),
    'user-agent': 'Ticketflow-Webhooks/1',
  };
}

function decodeSecret(secret: string): Buffer | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return undefined;
  const encoded = secret.slice(SECRET_PREFIX.length);
  // Buffer.from(…, 'base64') skips characters it does not know, so check the alphabet first.
  if (!BASE64.test(encoded)) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_SECRET_BYTES && key.length <= MAX_SECRET_BYTES ? key : undefined;
}
