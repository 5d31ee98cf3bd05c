import type { Db } from './connect.ts';

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'replay'; status: number; body: unknown }
  | { state: 'in_progress' }
  | { state: 'mismatch' };

/**
 * A claim whose request never finished (the process died between claim and answer) is free
 * again after this long; the reply's dedupe key still prevents a second reply.
 */
const ABANDONED_AFTER_S = 60;

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
    [claim.principal, claim.key, claim.fingerprint, claim.ttlHours, ABANDONED_AFTER_S],
  );
  if (taken.rows.length > 0) return { state: 'claimed' };
  const row = await db('idempotency_keys')
    .where({ principal: claim.principal, key: claim.key })
    .first<
      { fingerprint: string; response_status: number | null; response_body: unknown } | undefined
    >('fingerprint', 'response_status', 'response_body');
  // Deleted between the two statements (a failed first request released it): try once more.
  if (!row) return claimIdempotencyKey(db, claim);
  if (row.fingerprint !== claim.fingerprint) return { state: 'mismatch' };
  if (row.response_status === null) return { state: 'in_progress' };
  return { state: 'replay', status: row.response_status, body: row.response_body };
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
