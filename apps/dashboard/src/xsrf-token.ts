import { createHmac, timingSafeEqual } from 'node:crypto';

/** Tokens bound to one session, and their check. */
export interface XsrfTokens {
  /** The `XSRF-TOKEN` value of a session (its cookie value). */
  tokenFor(session: string): string;
  /** True when `header` is the token of `session`. */
  matches(session: string, header: string | undefined): boolean;
}

/**
 * Signed double submit: the token is HMAC(key, session), so it is bound to the session cookie
 * and a cookie planted from a sibling subdomain cannot be paired with a header of the attacker's
 * choosing. What keeps it out of an attacker's reach is the session value itself (HttpOnly, never
 * readable cross-site); the key is derived from `secret`, configuration every ingress process
 * shares (the JWT secret, or the public key file's contents), so a token issued by one process
 * is accepted by all of them and no key has to be stored or coordinated. A per-process random key
 * would refuse every request that lands on another process behind the load balancer.
 */
export function createXsrfTokens(secret: string): XsrfTokens {
  // Derived, not used as is: this HMAC never doubles as a JWT signature over the same key.
  const key = createHmac('sha256', secret).update('ticketflow dashboard xsrf v1').digest();
  const tokenFor = (session: string) =>
    createHmac('sha256', key).update(session).digest('base64url');
  return {
    tokenFor,
    matches(session, header) {
      if (header === undefined) return false;
      const expected = Buffer.from(tokenFor(session));
      const given = Buffer.from(header);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
