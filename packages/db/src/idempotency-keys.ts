import type { Db } from './connect.ts';

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'replay'; status: number; body: unknown }
  /** `retryAfterS`: when the claim's lease lapses unless its request renews it. */
  | { state: 'in_progress'; retryAfterS: number }
  | { state: 'mismatch' };

/**
 * A claim is a lease: its request renews it every {@link IDEMPOTENCY_RENEW_MS} while it runs, so
 * a claim whose process died (between claim and answer) is free again within seconds; the
 * reply's dedupe key still prevents a second reply.
 */
export const IDEMPOTENCY_LEASE_S = 10;
/** How often a running request renews its claim: three renewals fit in one lease. */
export const IDEMPOTENCY_RENEW_MS = 3000;

/**
 * Claims (principal, key) for a request with this fingerprint, in one arbitrated statement:
 * a new key, an expired one, or an abandoned claim of the same request is taken over; anything
 * else reports what the first request left behind.
 */
export async function claimIdempotencyKey(
  db: Db,
  claim: { principal: string; key: string; fingerprint: string; ttlHours: number },
): Promise<IdempotencyClaim> {
  const taken = await db.raw<{ rows: unknown[] }>(
    `INSERT INTO idempotency_keys (principal, key, fingerprint, expires_at)
     VALUES (?, ?, ?, now() + make_interval(hours => ?))
     ON CONFLICT (principal, key) DO UPDATE
       SET fingerprint = EXCLUDED.fingerprint, created_at = now(), expires_at = EXCLUDED.expires_at,
           response_status = NULL, response_body = NULL
       WHERE idempotency_keys.expires_at < now()
          OR (idempotency_keys.response_status IS NULL
              AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
              AND idempotency_keys.created_at < now() - make_interval(secs => ?))
     RETURNING 1`,
    [claim.principal, claim.key, claim.fingerprint, claim.ttlHours, IDEMPOTENCY_LEASE_S],
  );
  if (taken.rows.length > 0) return { state: 'claimed' };
  const row = await db('idempotency_keys')
    .where({ principal: claim.principal, key: claim.key })
    .first<
      | {
          fingerprint: string;
          response_status: number | null;
          response_body: string | null;
          lease_left_s: number;
        }
      | undefined
    >(
      'fingerprint',
      'response_status',
      'response_body',
      db.raw(
        'ceil(extract(epoch from created_at + make_interval(secs => ?) - now()))::int AS lease_left_s',
        [IDEMPOTENCY_LEASE_S],
      ),
    );
  // Deleted between the two statements (a failed first request released it): try once more.
  if (!row) return claimIdempotencyKey(db, claim);
  if (row.fingerprint !== claim.fingerprint) return { state: 'mismatch' };
  if (row.response_status === null) {
    return { state: 'in_progress', retryAfterS: Math.max(1, row.lease_left_s) };
  }
  // Stored as the text that was sent: JSON.parse keeps its key order, so the replay's bytes are
  // the first answer's (jsonb would have reordered the keys).
  return {
    state: 'replay',
    status: row.response_status,
    body: row.response_body === null ? null : (JSON.parse(row.response_body) as unknown),
  };
}

/** Renews a running request's claim; false once the claim is no longer its own to renew. */
export async function renewIdempotencyKey(
  db: Db,
  principal: string,
  key: string,
): Promise<boolean> {
  const updated = await db('idempotency_keys')
    .where({ principal, key })
    .whereNull('response_status')
    .update({ created_at: db.fn.now() });
  return updated > 0;
}

/** Stores the answer a repeat of this request will get. */
export async function completeIdempotencyKey(
  db: Db,
  principal: string,
  key: string,
  response: { status: number; body: unknown },
): Promise<void> {
  await db('idempotency_keys')
    .where({ principal, key })
    .update({ response_status: response.status, response_body: JSON.stringify(response.body) });
}

/** Frees a key whose request failed, so the fixed request can use it again (API.md §8). */
export async function releaseIdempotencyKey(db: Db, principal: string, key: string): Promise<void> {
  await db('idempotency_keys').where({ principal, key }).whereNull('response_status').delete();
}
