import type { Db } from './connect.ts';
import { IDEMPOTENCY_LEASE_S } from './idempotency-keys.ts';

/**
 * Rows one purge statement deletes at most. Each statement commits on its own, so a backlog
 * (the first run after an upgrade) is many short transactions, never one long lock.
 */
const PURGE_PAGE = 5000;

/** How many rows a purge deleted, per table. */
export interface PurgedRecords {
  inboundEmails: number;
  idempotencyKeys: number;
}

/**
 * The bridge's records of messages last read more than the retention ago. The bridge only writes
 * this table and never reads it to decide anything: a reply's exactly-once guarantee is the
 * UNIQUE `ticket_replies.dedupe_key`, so a purged message read again is posted as the same
 * dedupe key, stored as a duplicate, and gets a fresh record.
 */
const PURGE_INBOUND_EMAILS = `
DELETE FROM inbound_emails WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM inbound_emails
  WHERE last_seen_at < now() - make_interval(days => ?)
  LIMIT ? FOR UPDATE SKIP LOCKED))`;

/**
 * Expired idempotency keys. `claimIdempotencyKey` already takes over any row whose expires_at
 * has passed, as if it were not there, so deleting one changes no answer. A claim still within
 * its lease is kept all the same: its request may still complete or renew it, and only a new
 * claim, not housekeeping, should take it from that request.
 */
const PURGE_IDEMPOTENCY_KEYS = `
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM idempotency_keys
  WHERE expires_at < now()
    AND (response_status IS NOT NULL OR created_at < now() - make_interval(secs => ?))
  LIMIT ? FOR UPDATE SKIP LOCKED))`;

/**
 * Deletes `inbound_emails` rows older than the retention and expired `idempotency_keys`, a page
 * per statement, querying again while a page comes back full.
 *
 * Each statement locks a page of rows found through the time index and deletes exactly those
 * by ctid: the plainer `WHERE id IN (SELECT … LIMIT n)` is planned as a hash semi-join that
 * reads the whole table for every page, and a locked row's ctid cannot change before the delete.
 * Rows another transaction holds (a bridge or a claim writing them now) are skipped, not waited
 * for; a page they leave short ends the run early, and the next run deletes the rest.
 */
export async function purgeRecords(
  db: Db,
  options: { inboundEmailRetentionDays: number; pageSize?: number },
): Promise<PurgedRecords> {
  const pageSize = options.pageSize ?? PURGE_PAGE;
  // A page of 0 would never come back short, so the loop would never end.
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError(`purge page size must be a whole number ≥ 1, not ${pageSize}`);
  }
  return {
    inboundEmails: await deleteInPages(
      db,
      PURGE_INBOUND_EMAILS,
      [options.inboundEmailRetentionDays],
      pageSize,
    ),
    idempotencyKeys: await deleteInPages(
      db,
      PURGE_IDEMPOTENCY_KEYS,
      [IDEMPOTENCY_LEASE_S],
      pageSize,
    ),
  };
}

async function deleteInPages(
  db: Db,
  sql: string,
  bindings: readonly number[],
  pageSize: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.raw<{ rowCount: number | null }>(sql, [...bindings, pageSize]);
    const deleted = result.rowCount ?? 0;
    total += deleted;
    if (deleted < pageSize) return total;
  }
}
