import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@ticketflow/testing';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from './idempotency-keys.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

/** A claim under a principal no other test uses, so tests share the database safely. */
function newClaim(fingerprint = 'fingerprint-a') {
  return { principal: `client-${randomUUID()}`, key: 'key-1', fingerprint, ttlHours: 24 };
}

function claim(c: ReturnType<typeof newClaim>, fingerprint = c.fingerprint) {
  return claimIdempotencyKey(database.db, { ...c, fingerprint });
}

describe('claimIdempotencyKey', () => {
  it('claims a new key, reports the same request in progress, another request a mismatch, and replays once complete', async () => {
    const c = newClaim();
    expect(await claim(c)).toEqual({ state: 'claimed' });
    expect(await claim(c)).toEqual({ state: 'in_progress' });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'mismatch' });
    await completeIdempotencyKey(database.db, c.principal, c.key, {
      status: 200,
      body: { result: 'success', replyid: 'r1' },
    });
    expect(await claim(c)).toEqual({
      state: 'replay',
      status: 200,
      body: { result: 'success', replyid: 'r1' },
    });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'mismatch' });
  });

  it('scopes a key to its principal', async () => {
    const c = newClaim();
    expect(await claim(c)).toEqual({ state: 'claimed' });
    expect(
      await claimIdempotencyKey(database.db, { ...c, principal: `${c.principal}-other` }),
    ).toEqual({
      state: 'claimed',
    });
  });

  it('frees an unfinished claim on release, so the fixed request can use the key again', async () => {
    const c = newClaim();
    await claim(c);
    await releaseIdempotencyKey(database.db, c.principal, c.key);
    expect(await claim(c, 'fingerprint-fixed')).toEqual({ state: 'claimed' });
  });

  it('keeps a completed key on release, so its answer is still replayed', async () => {
    const c = newClaim();
    await claim(c);
    await completeIdempotencyKey(database.db, c.principal, c.key, {
      status: 200,
      body: { result: 'success' },
    });
    await releaseIdempotencyKey(database.db, c.principal, c.key);
    expect(await claim(c)).toEqual({ state: 'replay', status: 200, body: { result: 'success' } });
  });

  it('lets an expired key be claimed again, by any request', async () => {
    const c = newClaim();
    await claim(c);
    await completeIdempotencyKey(database.db, c.principal, c.key, {
      status: 200,
      body: { result: 'success' },
    });
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ expires_at: database.db.raw("now() - interval '1 second'") });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'claimed' });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'in_progress' });
  });

  it('lets the same request reclaim a claim abandoned more than 60 s ago', async () => {
    const c = newClaim();
    await claim(c);
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ created_at: database.db.raw("now() - interval '61 seconds'") });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'mismatch' });
    expect(await claim(c)).toEqual({ state: 'claimed' });
    // Reclaiming restarts the clock: the claim is in progress again, not free for a third try.
    expect(await claim(c)).toEqual({ state: 'in_progress' });
  });

  it('does not let anyone take over an in-progress claim younger than 60 s', async () => {
    const c = newClaim();
    await claim(c);
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ created_at: database.db.raw("now() - interval '59 seconds'") });
    expect(await claim(c)).toEqual({ state: 'in_progress' });
  });
});
