import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  renewIdempotencyKey,
} from './idempotency-keys.ts';
import { purgeRecords } from './purge-records.ts';

const database = useTestDatabase();
// A purge reaches the whole table, so each test starts from empty ones.
beforeEach(async () => {
  await database.db('inbound_emails').delete();
  await database.db('idempotency_keys').delete();
});

/** A record of a message the bridge first read `firstDaysAgo` and last read `lastDaysAgo`. */
async function inboundEmail(lastDaysAgo: number, firstDaysAgo = lastDaysAgo): Promise<string> {
  const dedupeKey = `email:support:<${randomUUID()}@example.test>`;
  const { db } = database;
  await db('inbound_emails').insert({
    dedupe_key: dedupeKey,
    mailbox: 'support',
    outcome: 'posted',
    first_seen_at: db.raw('now() - make_interval(days => ?)', [firstDaysAgo]),
    last_seen_at: db.raw('now() - make_interval(days => ?)', [lastDaysAgo]),
  });
  return dedupeKey;
}

async function inboundEmailKeys(): Promise<string[]> {
  return database.db('inbound_emails').orderBy('dedupe_key').pluck<string[]>('dedupe_key');
}

/** An idempotency key as a request leaves it, with its expiry and lease moved by seconds. */
async function idempotencyKey(row: {
  expiresInS: number;
  leaseTakenSAgo: number;
  responseStatus: number | null;
}): Promise<string> {
  const principal = `client-${randomUUID()}`;
  const { db } = database;
  await db('idempotency_keys').insert({
    principal,
    key: 'key-1',
    fingerprint: 'fingerprint-a',
    response_status: row.responseStatus,
    response_body: row.responseStatus === null ? null : '{"result":"success"}',
    created_at: db.raw('now() - make_interval(secs => ?)', [row.leaseTakenSAgo]),
    expires_at: db.raw('now() + make_interval(secs => ?)', [row.expiresInS]),
  });
  return principal;
}

async function idempotencyPrincipals(): Promise<string[]> {
  return database.db('idempotency_keys').orderBy('principal').pluck<string[]>('principal');
}

describe('purgeRecords', () => {
  it('deletes inbound emails last seen before the retention and keeps the rest', async () => {
    await inboundEmail(31);
    await inboundEmail(400);
    const recent = await inboundEmail(29);
    // First read long ago, but delivered again yesterday: its retention counts from then.
    const redelivered = await inboundEmail(1, 60);

    expect(await purgeRecords(database.db, { inboundEmailRetentionDays: 30 })).toEqual({
      inboundEmails: 2,
      idempotencyKeys: 0,
    });
    expect(await inboundEmailKeys()).toEqual([recent, redelivered].sort());
  });

  it('deletes expired idempotency keys, finished or abandoned, and keeps unexpired ones and live claims', async () => {
    await idempotencyKey({ expiresInS: -60, leaseTakenSAgo: 3600, responseStatus: 200 });
    // A claim whose process died before it answered: its lease lapsed long ago.
    await idempotencyKey({ expiresInS: -60, leaseTakenSAgo: 3600, responseStatus: null });
    // Expired, yet its request renewed the lease just now: still running, so kept.
    const running = await idempotencyKey({
      expiresInS: -60,
      leaseTakenSAgo: 0,
      responseStatus: null,
    });
    const finished = await idempotencyKey({
      expiresInS: 3600,
      leaseTakenSAgo: 3600,
      responseStatus: 200,
    });
    const claim = {
      principal: `client-${randomUUID()}`,
      key: 'key-1',
      fingerprint: 'fingerprint-a',
      ttlHours: 24,
    };
    expect(await claimIdempotencyKey(database.db, claim)).toEqual({ state: 'claimed' });

    expect(await purgeRecords(database.db, { inboundEmailRetentionDays: 30 })).toEqual({
      inboundEmails: 0,
      idempotencyKeys: 2,
    });
    expect(await idempotencyPrincipals()).toEqual([running, finished, claim.principal].sort());
    // The claims it kept are still their requests' own: they renew and complete as before.
    expect(await renewIdempotencyKey(database.db, running, 'key-1')).toBe(true);
    expect(await claimIdempotencyKey(database.db, claim)).toMatchObject({ state: 'in_progress' });
    await completeIdempotencyKey(database.db, claim.principal, claim.key, {
      status: 200,
      body: { result: 'success' },
    });
    expect(await claimIdempotencyKey(database.db, claim)).toMatchObject({ state: 'replay' });
  });

  it('answers a purged key as it would have answered the expired key: claimed, whatever it held', async () => {
    const expired = { expiresInS: -60, leaseTakenSAgo: 3600, responseStatus: 200 };
    const [kept, purged] = [await idempotencyKey(expired), await idempotencyKey(expired)];
    const claim = (principal: string) =>
      claimIdempotencyKey(database.db, {
        principal,
        key: 'key-1',
        fingerprint: 'fingerprint-b',
        ttlHours: 24,
      });
    // Not purged: the claim takes the expired row over, though another request's answer is in it.
    expect(await claim(kept)).toEqual({ state: 'claimed' });

    await purgeRecords(database.db, { inboundEmailRetentionDays: 30 });
    expect(await idempotencyPrincipals()).toEqual([kept]);
    expect(await claim(purged)).toEqual({ state: 'claimed' });
  });

  it('deletes a backlog larger than one page, a page per statement', async () => {
    // Five rows in pages of two end on a short page; four end on an empty one.
    for (let i = 0; i < 5; i++) await inboundEmail(31);
    for (let i = 0; i < 4; i++) {
      await idempotencyKey({ expiresInS: -60, leaseTakenSAgo: 3600, responseStatus: 200 });
    }
    const recent = await inboundEmail(0);

    expect(await purgeRecords(database.db, { inboundEmailRetentionDays: 30, pageSize: 2 })).toEqual(
      { inboundEmails: 5, idempotencyKeys: 4 },
    );
    expect(await inboundEmailKeys()).toEqual([recent]);
    expect(await idempotencyPrincipals()).toEqual([]);
  });

  it('skips a row another transaction holds instead of waiting for it', async () => {
    const held = await inboundEmail(31);
    const trx = await database.db.transaction();
    try {
      await trx('inbound_emails').where({ dedupe_key: held }).forUpdate().first();
      expect(await purgeRecords(database.db, { inboundEmailRetentionDays: 30 })).toEqual({
        inboundEmails: 0,
        idempotencyKeys: 0,
      });
    } finally {
      await trx.commit();
    }
    expect(await purgeRecords(database.db, { inboundEmailRetentionDays: 30 })).toEqual({
      inboundEmails: 1,
      idempotencyKeys: 0,
    });
  });

  it('refuses a page size below 1, which would never end', async () => {
    await expect(
      purgeRecords(database.db, { inboundEmailRetentionDays: 30, pageSize: 0 }),
    ).rejects.toThrow(RangeError);
  });
});
