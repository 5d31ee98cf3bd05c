import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REPLY_JOB, REPLY_QUEUE, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { answerOf, postForm, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';
import { countReplies } from './stack-counts.ts';

/**
 * Idempotency-Key (API.md §8), Prefer: wait and reply status (§1, §7), dead letters (§9) and
 * rate limits (§7). Two stacks: one with the real worker, one without, where accepted replies
 * stay queued and the per-ticket limit is 3 a minute.
 */

let live: TestStack;
let idle: TestStack;
beforeAll(async () => {
  [live, idle] = await Promise.all([
    startStack(),
    startStack({ worker: false, env: { TICKETFLOW_RATE_LIMIT_PER_TICKET: '3' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([live?.close(), idle?.close()]);
});

function post(
  stack: TestStack,
  token: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return postForm(`${stack.url}/api/v2/add-ticket-reply`, fields, {
    authorization: `Bearer ${token}`,
    ...headers,
  });
}

async function replyStatus(stack: TestStack, token: string, replyid: string): Promise<Answer> {
  const res = await fetch(`${stack.url}/api/v2/replies/${replyid}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return answerOf(res);
}

/** Jobs in any state whose payload matches. */
async function jobsWhere(stack: TestStack, match: (job: ReplyJob) => boolean): Promise<number> {
  const jobs = await stack.queue.getJobs();
  return jobs.filter((job) => match(job.data)).length;
}

/** Polls `probe` until it returns a value, or fails after `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A fresh ticket of the seeded client. The stack without a worker allows 3 replies per ticket
 * a minute, so each test there that sends several takes its own ticket.
 */
async function freshTicket(stack: TestStack): Promise<{ id: number; tid: string }> {
  const tid = `T-${randomUUID().slice(0, 8)}`;
  const [row] = await stack.database
    .db('tickets')
    .insert({
      tid,
      department_id: stack.seed.departmentId,
      client_id: stack.seed.clientId,
      subject: 'idempotency and status',
    })
    .returning<{ id: number }[]>('id');
  return { id: row!.id, tid };
}

const opsToken = () => live.token({ role: 'ops', sub: 'ops-status' });

const key = () => `key-${randomUUID()}`;
const clientSub = (stack: TestStack) => `client-${stack.seed.clientId}`;

describe('Idempotency-Key', () => {
  it('answers a repeat with the same body and Idempotent-Replayed: true, and stores one reply', async () => {
    const k = key();
    const fields = { ticketid: String(live.seed.ticketId), message: `once ${k}` };
    const first = await post(live, live.clientToken, fields, {
      'idempotency-key': k,
      prefer: 'wait=10',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await post(live, live.clientToken, fields, { 'idempotency-key': k });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    expect(await countReplies(live, { message: fields.message })).toBe(1);
    expect(await countReplies(live, { dedupe_key: `idem:${clientSub(live)}:${k}` })).toBe(1);
    expect(await jobsWhere(live, (job) => job.message === fields.message)).toBe(1);
  });

  it('answers the same key with a different message with 422 and enqueues nothing', async () => {
    const k = key();
    const ticketid = String(live.seed.ticketId);
    const first = await post(
      live,
      live.clientToken,
      { ticketid, message: `first ${k}` },
      { 'idempotency-key': k, prefer: 'wait=10' },
    );
    expect(first.status).toBe(200);

    const other = await post(
      live,
      live.clientToken,
      { ticketid, message: `second ${k}` },
      { 'idempotency-key': k },
    );
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      result: 'error',
      message:
        'This Idempotency-Key was already used for a different request; use a new key for a new request',
      code: 'idempotency_key_reused',
    });
    expect(await countReplies(live, { message: `second ${k}` })).toBe(0);
    expect(await jobsWhere(live, (job) => job.message === `second ${k}`)).toBe(0);
  });

  it('scopes a key to the token sub, so another sub can use the same key for its own reply', async () => {
    const k = key();
    const fields = { ticketid: String(live.seed.ticketId), message: `shared key ${k}` };
    const otherToken = live.token({
      role: 'client',
      sub: 'another-client-user',
      clientid: live.seed.clientId,
    });
    const mine = await post(live, live.clientToken, fields, {
      'idempotency-key': k,
      prefer: 'wait=10',
    });
    const theirs = await post(live, otherToken, fields, {
      'idempotency-key': k,
      prefer: 'wait=10',
    });
    expect(mine.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(theirs.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.replyid).not.toBe(mine.body.replyid);
    expect(await countReplies(live, { message: fields.message })).toBe(2);
  });

  it('does not keep a validation failure, so the fixed request can reuse the key', async () => {
    const k = key();
    const ticketid = String(live.seed.ticketId);
    const broken = await post(
      live,
      live.clientToken,
      { ticketid, message: ' ' },
      { 'idempotency-key': k },
    );
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 'message_required' });

    const fixed = await post(
      live,
      live.clientToken,
      { ticketid, message: `fixed ${k}` },
      { 'idempotency-key': k, prefer: 'wait=10' },
    );
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    expect(await countReplies(live, { dedupe_key: `idem:${clientSub(live)}:${k}` })).toBe(1);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['a tab inside', 'a\tb'],
  ])('answers a key of %s with 400 and enqueues nothing', async (_name, badKey) => {
    const message = `bad key ${randomUUID()}`;
    const answer = await post(
      live,
      live.clientToken,
      { ticketid: String(live.seed.ticketId), message },
      { 'idempotency-key': badKey },
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Invalid Idempotency-Key: use 1 to 255 printable ASCII characters',
      code: 'invalid_idempotency_key',
    });
    expect(await jobsWhere(live, (job) => job.message === message)).toBe(0);
  });

  it('accepts a key of exactly 255 characters', async () => {
    const answer = await post(
      live,
      live.clientToken,
      { ticketid: String(live.seed.ticketId), message: 'long key' },
      { 'idempotency-key': `${randomUUID()}${'k'.repeat(255 - 36)}` },
    );
    expect(answer.status).toBe(200);
  });

  it('answers 409 with Retry-After while the first request with the key is in flight', async () => {
    // Without a worker, `Prefer: wait=2` holds the first request open for 2 s after its claim.
    const k = key();
    const ticket = await freshTicket(idle);
    const fields = { ticketid: String(ticket.id), message: `in flight ${k}` };
    const staff = idle.staffToken;
    const first = post(idle, staff, fields, { 'idempotency-key': k, prefer: 'wait=2' });
    await eventually(async () => {
      const row: unknown = await idle.database
        .db('idempotency_keys')
        .where({ principal: 'staff-test', key: k })
        .first();
      return row;
    });

    const second = await post(idle, staff, fields, { 'idempotency-key': k });
    expect(second.status).toBe(409);
    // The first request holds a 10 s lease it renews while it runs: the wait is what is left.
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(9);
    expect(Number(second.headers.get('retry-after'))).toBeLessThanOrEqual(10);
    expect(second.body).toEqual({
      result: 'error',
      message: 'A request with this Idempotency-Key is still in progress; retry after it completes',
      code: 'idempotency_key_in_progress',
    });

    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(200);
    expect(firstAnswer.body).toMatchObject({ result: 'success', status: 'queued' });
    const third = await post(idle, staff, fields, { 'idempotency-key': k });
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.body).toEqual(firstAnswer.body);
    expect(await jobsWhere(idle, (job) => job.message === fields.message)).toBe(1);
  });

  it('lets exactly one of three concurrent identical requests run; the others get 409 or its replay', async () => {
    // Three: the per-ticket limit of this stack, so none of them is turned away as a flood.
    const k = key();
    const ticket = await freshTicket(idle);
    const fields = { ticketid: String(ticket.id), message: `burst ${k}` };
    const answers = await Promise.all(
      Array.from({ length: 3 }, () =>
        post(idle, idle.staffToken, fields, { 'idempotency-key': k, prefer: 'wait=1' }),
      ),
    );
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    const ran = answers.filter((a) => a.status === 200 && !a.headers.has('idempotent-replayed'));
    expect(ran).toHaveLength(1);
    for (const answer of answers) {
      if (answer === ran[0]) continue;
      if (answer.status === 409)
        expect(answer.body).toMatchObject({ code: 'idempotency_key_in_progress' });
      else expect(answer.body).toEqual(ran[0]!.body);
    }
    expect(await jobsWhere(idle, (job) => job.message === fields.message)).toBe(1);
  });
});

describe('Prefer: wait', () => {
  it('answers "persisted" with Preference-Applied: wait=10 once the worker stored the reply', async () => {
    const answer = await post(
      live,
      live.clientToken,
      { ticketid: String(live.seed.ticketId), message: 'wait for me' },
      { prefer: 'wait=10' },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect(answer.headers.get('preference-applied')).toBe('wait=10');
    expect(await countReplies(live, { reply_uid: answer.body.replyid })).toBe(1);
  });

  it('answers "queued" after about a second when no worker takes the job within wait=1', async () => {
    const ticket = await freshTicket(idle);
    const started = Date.now();
    const answer = await post(
      idle,
      idle.clientToken,
      { ticketid: String(ticket.id), message: 'nobody home' },
      { prefer: 'wait=1' },
    );
    const elapsed = Date.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'success', status: 'queued' });
    expect(answer.headers.get('preference-applied')).toBe('wait=1');
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
  });

  it('answers at once, without Preference-Applied, when there is no Prefer header', async () => {
    const ticket = await freshTicket(idle);
    const answer = await post(idle, idle.staffToken, {
      ticketid: String(ticket.id),
      message: 'no preference',
    });
    expect(answer.body).toMatchObject({ result: 'success', status: 'queued' });
    expect(answer.headers.get('preference-applied')).toBeNull();
  });
});

describe('GET /api/v2/replies/:replyid', () => {
  it('reports "queued" while no worker has taken the reply', async () => {
    const ticket = await freshTicket(idle);
    const accepted = await post(idle, idle.clientToken, {
      ticketid: String(ticket.id),
      message: 'still queued',
    });
    const status = await replyStatus(idle, idle.clientToken, accepted.body.replyid as string);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      result: 'success',
      replyid: accepted.body.replyid,
      status: 'queued',
      ticketid: ticket.id,
    });
  });

  it('reports "persisted" once the worker stored the reply', async () => {
    const accepted = await post(
      live,
      live.clientToken,
      { ticketid: String(live.seed.ticketId), message: 'stored' },
      { prefer: 'wait=10' },
    );
    const status = await replyStatus(live, live.clientToken, accepted.body.replyid as string);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      result: 'success',
      replyid: accepted.body.replyid,
      status: 'persisted',
      ticketid: live.seed.ticketId,
    });
    expect(Number.isNaN(Date.parse(status.body.persistedAt as string))).toBe(false);
  });

  it.each([
    ['an unknown uuid', () => randomUUID()],
    ['something that is not a uuid', () => 'not-a-reply'],
  ])('answers 404 Reply ID Not Found for %s', async (_name, id) => {
    const answer = await replyStatus(live, live.staffToken, id());
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Reply ID Not Found',
      code: 'reply_not_found',
    });
  });

  it('answers 404 to a client token asking about a reply another token submitted', async () => {
    const accepted = await post(
      live,
      live.staffToken,
      { ticketid: String(live.seed.ticketId), message: 'staff wrote this' },
      { prefer: 'wait=10' },
    );
    const replyid = accepted.body.replyid as string;
    const sameClientOtherUser = live.token({
      role: 'client',
      sub: 'client-colleague',
      clientid: live.seed.clientId,
    });
    for (const token of [live.clientToken, sameClientOtherUser]) {
      const answer = await replyStatus(live, token, replyid);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ message: 'Reply ID Not Found' });
    }
    expect((await replyStatus(live, live.staffToken, replyid)).body).toMatchObject({
      status: 'persisted',
    });
  });

  describe('a job the worker refuses', () => {
    const cases: Array<[string, (replyid: string) => Record<string, unknown>, RegExp]> = [
      ['with missing fields', (replyid) => ({ v: 1, replyid }), /^invalid reply job: /],
      [
        'of an unknown contract version',
        (replyid) => ({ v: 2, replyid, message: 'from the future' }),
        /^unsupported reply job version 2/,
      ],
    ];

    it.each(cases)(
      'is dead-lettered at once %s and reported "dead" with the reason',
      async (_name, payload, reason) => {
        const replyid = randomUUID();
        const jobId = replyJobId(replyid);
        await live.queue.add(REPLY_JOB, payload(replyid) as unknown as ReplyJob, { jobId });

        const letter = await eventually(
          async () =>
            (await live.database
              .db('dead_letters')
              .where({ queue: REPLY_QUEUE, job_id: jobId })
              .first()) as
              { error: string; reason: string; attempts: number; payload: unknown } | undefined,
        );
        // The raw error stays for ops; the public answer carries the catalogue's sentence.
        expect(letter.error).toMatch(reason);
        expect(letter.reason).toBe('invalid_job');
        expect(letter.attempts).toBe(1);
        expect(letter.payload).toEqual(payload(replyid));

        const answer = await replyStatus(live, opsToken(), replyid);
        expect(answer.status).toBe(200);
        expect(answer.body).toMatchObject({
          result: 'success',
          replyid,
          status: 'dead',
          reason: 'the job does not follow the reply job contract',
        });
        expect(await countReplies(live, { reply_uid: replyid })).toBe(0);
      },
    );

    it('records a dead letter even when the payload holds a NUL character (U+0000), which jsonb refuses', async () => {
      // A producer other than the ingress may send any JSON string; PostgreSQL text and jsonb
      // both refuse U+0000, so the reply cannot be stored, and the dead letter must still be.
      const replyid = randomUUID();
      const jobId = replyJobId(replyid);
      const job: ReplyJob = {
        v: 1,
        replyid,
        dedupeKey: replyid,
        ticket: { id: live.seed.ticketId },
        author: { type: 'client', clientid: live.seed.clientId, contactid: null },
        message: 'before\u0000after',
        markdown: false,
        status: null,
        noemail: false,
        created: null,
        customfields: [],
        attachments: [],
        source: { kind: 'email', principal: 'bridge-nul' },
        receivedAt: new Date().toISOString(),
      };
      await live.queue.add(REPLY_JOB, job, { jobId });

      const letter = await eventually(
        async () =>
          (await live.database
            .db('dead_letters')
            .where({ queue: REPLY_QUEUE, job_id: jobId })
            .first()) as { error: string } | undefined,
        5000,
      );
      expect(letter.error).not.toBe('');
      expect((await replyStatus(live, opsToken(), replyid)).body).toMatchObject({ status: 'dead' });
      expect(await countReplies(live, { reply_uid: replyid })).toBe(0);
    });

    it('is still reported "dead" from the dead letters once BullMQ no longer holds the job', async () => {
      const replyid = randomUUID();
      const jobId = replyJobId(replyid);
      await live.queue.add(REPLY_JOB, { v: 1, replyid } as unknown as ReplyJob, { jobId });
      await eventually(
        async () =>
          (await live.database.db('dead_letters').where({ job_id: jobId }).first()) as unknown,
      );
      await live.queue.remove(jobId);
      expect(await live.queue.getJob(jobId)).toBeUndefined();

      const answer = await replyStatus(live, live.staffToken, replyid);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        status: 'dead',
        reason: 'the job does not follow the reply job contract',
      });
    });
  });
});

describe('rate limits', () => {
  /**
   * Limits count per fixed one-minute window; four requests straddling a window edge would
   * see two budgets. Start with at least 5 s left in the window.
   */
  async function awayFromWindowEdge(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 5000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  }

  it('answers the 4th reply to one ticket within a minute with 429, Retry-After and RateLimit-* headers', async () => {
    const ticket = await freshTicket(idle);
    await awayFromWindowEdge();
    const send = () =>
      post(idle, idle.clientToken, { ticketid: String(ticket.id), message: 'flood' });

    const remaining: Array<string | null> = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await send();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(answer.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const fourth = await send();
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ result: 'error', code: 'rate_limited' });
    expect(fourth.body.message).toMatch(/^Too many requests for this ticket; retry in \d+ s$/);
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(fourth.headers.get('ratelimit-limit')).toBe('3');
    expect(fourth.headers.get('ratelimit-remaining')).toBe('0');
    expect(fourth.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    expect(await jobsWhere(idle, (job) => 'id' in job.ticket && job.ticket.id === ticket.id)).toBe(
      3,
    );
  });

  it('counts concurrent replies to one ticket one by one: 3 of 6 at once pass, with 2, 1 and 0 left', async () => {
    const ticket = await freshTicket(idle);
    await awayFromWindowEdge();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        post(idle, idle.clientToken, { ticketid: String(ticket.id), message: 'at once' }),
      ),
    );
    const passed = answers.filter((a) => a.status === 200);
    expect(passed.map((a) => a.headers.get('ratelimit-remaining')).sort()).toEqual(['0', '1', '2']);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(3);
    expect(await jobsWhere(idle, (job) => 'id' in job.ticket && job.ticket.id === ticket.id)).toBe(
      3,
    );
  });

  it('answers 503 and enqueues nothing when Redis cannot count the limit (a key that is not a counter)', async () => {
    const ticket = await freshTicket(idle);
    await awayFromWindowEdge();
    const sub = `client-${idle.seed.clientId}-broken-counter`;
    const token = idle.token({ role: 'client', sub, clientid: idle.seed.clientId });
    const redis = new Redis(idle.config.redisUrl);
    onTestFinished(() => void redis.quit());
    const window = Math.floor(Date.now() / 60_000);
    await redis.set(
      `${idle.config.queuePrefix}:ratelimit:token:${sub}:${window}`,
      'x',
      'PX',
      60_000,
    );
    const answer = await post(idle, token, { ticketid: String(ticket.id), message: 'counted?' });
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ result: 'error' });
    expect(await jobsWhere(idle, (job) => 'id' in job.ticket && job.ticket.id === ticket.id)).toBe(
      0,
    );
  });

  it("does not let another client's requests use up a ticket's budget", async () => {
    const ticket = await freshTicket(idle);
    await awayFromWindowEdge();
    const stranger = idle.token({
      role: 'client',
      sub: 'client-stranger',
      clientid: idle.seed.otherClientId,
    });
    // The stranger is throttled on its own budget, and the ticket's stays whole.
    const probes: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      probes.push(
        (await post(idle, stranger, { ticketid: String(ticket.id), message: 'probe' })).status,
      );
    }
    expect(probes).toEqual([404, 404, 404, 429]);
    const owner = await post(idle, idle.clientToken, {
      ticketid: String(ticket.id),
      message: 'mine',
    });
    expect(owner.status).toBe(200);
    expect(owner.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('counts a ticket once however the request names it (ticketid, zero-padded ticketid, ticketnum)', async () => {
    const ticket = await freshTicket(idle);
    await awayFromWindowEdge();
    const names: Array<Record<string, string>> = [
      { ticketid: String(ticket.id) },
      { ticketid: `00${ticket.id}` },
      { ticketnum: ticket.tid },
      { ticketid: ` ${ticket.id}` },
    ];
    const statuses: number[] = [];
    for (const name of names) {
      const answer = await post(idle, idle.staffToken, { ...name, message: 'spelled apart' });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(await jobsWhere(idle, (job) => 'id' in job.ticket && job.ticket.id === ticket.id)).toBe(
      3,
    );
  });
});
