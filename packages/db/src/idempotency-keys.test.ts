import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@ticketflow/testing';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
  renewIdempotencyKey,
} from './idempotency-keys.ts';

const database = useTestDatabase();

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
    expect(await claim(c)).toMatchObject({ state: 'in_progress' });
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
    expect(await claim(c, 'fingerprint-b')).toMatchObject({ state: 'in_progress' });
  });

  it('lets the same request reclaim a claim whose 10 s lease lapsed unrenewed', async () => {
    const c = newClaim();
    await claim(c);
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ created_at: database.db.raw("now() - interval '11 seconds'") });
    expect(await claim(c, 'fingerprint-b')).toEqual({ state: 'mismatch' });
    expect(await claim(c)).toEqual({ state: 'claimed' });
    // Reclaiming restarts the clock: the claim is in progress again, not free for a third try.
    expect(await claim(c)).toMatchObject({ state: 'in_progress' });
  });

  it('does not let anyone take over a claim within its lease, and says how long is left', async () => {
    const c = newClaim();
    await claim(c);
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ created_at: database.db.raw("now() - interval '7 seconds'") });
    expect(await claim(c)).toEqual({ state: 'in_progress', retryAfterS: 3 });
  });

  it('keeps a renewed claim from lapsing', async () => {
    const c = newClaim();
    await claim(c);
    await database
      .db('idempotency_keys')
      .where({ principal: c.principal, key: c.key })
      .update({ created_at: database.db.raw("now() - interval '9 seconds'") });
    expect(await renewIdempotencyKey(database.db, c.principal, c.key)).toBe(true);
    expect(await claim(c)).toEqual({ state: 'in_progress', retryAfterS: 10 });
  });

  it('renews nothing once the answer is recorded', async () => {
    const c = newClaim();
    await claim(c);
    await completeIdempotencyKey(database.db, c.principal, c.key, { status: 200, body: {} });
    expect(await renewIdempotencyKey(database.db, c.principal, c.key)).toBe(false);
  });
});
