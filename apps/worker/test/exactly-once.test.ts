import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { replyJob, until, useWorkerFixture } from './worker-fixture.ts';

const fixture = useWorkerFixture({ tidPrefix: 'EO', subject: 'exactly once' });
const {
  newTicket,
  enqueue,
  replyCount,
  lockTicket,
  waitUntilBlockedMidTransaction,
  startWorker,
  spawnWorker,
} = fixture;

describe('one reply per accepted request, however often BullMQ delivers it', () => {
  it('stores one reply when the same job is enqueued twice under two job ids', async () => {
    const ticketId = await newTicket();
    const data = replyJob(ticketId, { dedupeKey: `idempotency:client-7:${randomUUID()}` });
    const first = await enqueue(data, replyJobId(data.replyid));
    const second = await enqueue(data, `${replyJobId(data.replyid)}-redelivered`);
    expect(second.id).not.toBe(first.id);
    startWorker(1);

    await expect(first.waitUntilFinished(fixture.events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'inserted',
      notifications: 0,
    });
    await expect(second.waitUntilFinished(fixture.events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'duplicate',
      notifications: 0,
    });
    expect(await first.getState()).toBe('completed');
    expect(await second.getState()).toBe('completed');
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    expect(await replyCount({ ticket_id: ticketId })).toBe(1);
  });

  it('stores one reply when two jobs with one dedupe key run at the same time', async () => {
    // Two bridge deliveries of one e-mail: distinct reply ids, one dedupe key. The ticket lock
    // holds the transaction(s) open until both jobs have reached the database: the group
    // committer stores them in one transaction or two, and either way the dedupe key decides.
    const ticketId = await newTicket();
    const dedupeKey = `email:support@example.com:<${randomUUID()}@mail.example>`;
    const lock = await lockTicket(ticketId);
    const a = await enqueue(replyJob(ticketId, { dedupeKey }));
    const b = await enqueue(replyJob(ticketId, { dedupeKey }));
    startWorker(2);
    await waitUntilBlockedMidTransaction(a, 1);
    await waitUntilBlockedMidTransaction(b, 1);
    expect(await replyCount({ ticket_id: ticketId })).toBe(0);
    await lock.release();

    const outcomes = await Promise.all(
      [a, b].map(
        async (job) =>
          ((await job.waitUntilFinished(fixture.events, 10_000)) as { outcome: string }).outcome,
      ),
    );
    expect(outcomes.sort()).toEqual(['duplicate', 'inserted']);
    expect(await replyCount({ dedupe_key: dedupeKey })).toBe(1);
  });

  it('re-runs a job abandoned by a force-closed worker after it stalls, and still stores one reply', async () => {
    const ticketId = await newTicket();
    const lock = await lockTicket(ticketId);
    const data = replyJob(ticketId);
    const job = await enqueue(data);
    const first = startWorker();
    await waitUntilBlockedMidTransaction(job);

    // A crash as BullMQ's own suite simulates it: the lock is no longer renewed and the job is
    // never acknowledged. The abandoned processor lives on in this process, so once the row lock
    // is released it commits: this is the "committed, but the ack was lost" case.
    await first.worker.close(true);
    await lock.release();
    await until('the abandoned transaction to commit', async () => {
      return (await replyCount({ dedupe_key: data.dedupeKey })) === 1;
    });
    expect(await job.getState()).toBe('active');

    const stalled: string[] = [];
    const second = startWorker();
    second.worker.on('stalled', (jobId) => stalled.push(jobId));
    await expect(job.waitUntilFinished(fixture.events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'duplicate',
      notifications: 0,
    });
    expect(stalled).toEqual([job.id]);
    const done = (await fixture.queue.getJob(job.id!))!;
    expect(done.stalledCounter).toBe(1);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    expect(await replyCount({ ticket_id: ticketId })).toBe(1);
  });

  it('re-runs a job whose worker process was SIGKILLed mid-statement, and stores one reply', async () => {
    const ticketId = await newTicket();
    const lock = await lockTicket(ticketId);
    const data = replyJob(ticketId);
    const job = await enqueue(data);
    const doomed = spawnWorker();
    await waitUntilBlockedMidTransaction(job, 1, doomed.output);
    // Inserted but uncommitted: nobody else can see the reply yet.
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(0);

    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await lock.release();
    expect(await job.getState()).toBe('active');

    const heir = spawnWorker();
    const result: unknown = await job
      .waitUntilFinished(fixture.events, 15_000)
      .catch((error: Error) => {
        throw new Error(`${error.message}\nworker output:\n${heir.output()}`);
      });
    // PostgreSQL notices a vanished client only when it next talks to it: the killed process's
    // statement may still commit once the lock frees. The re-run then finds the reply stored;
    // otherwise it stores it. Either way: one reply.
    expect(result).toEqual({
      replyid: data.replyid,
      outcome: expect.stringMatching(/^(inserted|duplicate)$/) as unknown,
      notifications: 0,
    });
    expect((await fixture.queue.getJob(job.id!))!.stalledCounter).toBe(1);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    const ticket = await fixture
      .db('tickets')
      .where({ id: ticketId })
      .first<{ status: string }>('status');
    expect(ticket.status).toBe('Answered');
  });
});

describe('invalid and permanently refused jobs are dead-lettered at once', () => {
  type Poison = [name: string, make: (ticketId: number) => unknown, reason: string];
  const cases: Poison[] = [
    [
      'an unknown contract version',
      (t) => ({ ...replyJob(t), v: 2 }),
      'unsupported reply job version 2',
    ],
    [
      'a job without a message',
      (t) => {
        const job: Partial<ReplyJob> = replyJob(t);
        delete job.message;
        return job;
      },
      'invalid reply job: message',
    ],
    ['a job without a dedupe key', (t) => ({ ...replyJob(t), dedupeKey: undefined }), 'dedupeKey'],
    [
      'a ticket id that does not exist',
      () => replyJob(2_000_000_000),
      'ticket 2000000000 does not exist',
    ],
    [
      'an author client that does not exist (foreign key)',
      (t) => replyJob(t, { author: { type: 'client', clientid: 999_999, contactid: null } }),
      'the database refused the reply',
    ],
    [
      "a contact that is not the client's (foreign key)",
      (t) =>
        replyJob(t, {
          author: { type: 'client', clientid: fixture.seed.clientId, contactid: 999_999 },
        }),
      'the database refused the reply',
    ],
  ];

  it.each(cases)(
    'fails %s on the first attempt with one dead letter',
    async (_name, make, reason) => {
      const ticketId = await newTicket();
      const data = make(ticketId) as ReplyJob;
      const jobId = `poison-${randomUUID()}`;
      const job = await enqueue(data, jobId);
      startWorker();

      await expect(job.waitUntilFinished(fixture.events, 10_000)).rejects.toThrow(reason);
      const failed = (await fixture.queue.getJob(jobId))!;
      expect(await failed.getState()).toBe('failed');
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toContain(reason);

      // The dead letter is written from the worker's 'failed' handler, just after BullMQ's move.
      const letters = await until('the dead letter', async () => {
        const rows = await fixture
          .db('dead_letters')
          .where({ job_id: jobId })
          .select<
            { queue: string; name: string; error: string; attempts: number; payload: unknown }[]
          >('queue', 'name', 'error', 'attempts', 'payload');
        return rows.length > 0 && rows;
      });
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ queue: 'replies', name: REPLY_JOB, attempts: 1 });
      expect(letters[0]!.error).toContain(reason);
      expect(letters[0]!.payload).toEqual(JSON.parse(JSON.stringify(data)));
      expect(await replyCount({ ticket_id: ticketId })).toBe(0);
    },
  );
});

describe('the ticket moves with its reply', () => {
  it('commits the reply and the ticket status/last reply time together', async () => {
    const ticketId = await newTicket();
    const lock = await lockTicket(ticketId);
    const data = replyJob(ticketId, { author: { type: 'staff', admin: 'Sam' }, status: 'On Hold' });
    const job = await enqueue(data);
    startWorker();
    await waitUntilBlockedMidTransaction(job);
    // The reply row exists inside the worker's transaction, but while the ticket update waits
    // nothing of it is visible: one transaction, not two steps.
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(0);
    await lock.release();

    await job.waitUntilFinished(fixture.events, 10_000);
    const reply = await fixture
      .db('ticket_replies')
      .where({ dedupe_key: data.dedupeKey })
      .first<{ created_at: Date }>('created_at');
    const ticket = await fixture
      .db('tickets')
      .where({ id: ticketId })
      .first<{ status: string; last_reply_at: Date | null }>('status', 'last_reply_at');
    expect(ticket.status).toBe('On Hold');
    expect(ticket.last_reply_at).toEqual(reply.created_at);
  });

  it('does not move last_reply_at backwards for a reply created in the past', async () => {
    const ticketId = await newTicket();
    startWorker();
    const recent = replyJob(ticketId, { created: '2026-02-01T10:00:00.000Z' });
    await (await enqueue(recent)).waitUntilFinished(fixture.events, 10_000);

    const backdated = replyJob(ticketId, {
      author: {
        type: 'client',
        clientid: fixture.seed.clientId,
        contactid: fixture.seed.contactId,
      },
      created: '2020-05-04T03:02:01.000Z',
    });
    await expect(
      (await enqueue(backdated)).waitUntilFinished(fixture.events, 10_000),
    ).resolves.toMatchObject({ outcome: 'inserted' });

    const ticket = await fixture
      .db('tickets')
      .where({ id: ticketId })
      .first<{ status: string; last_reply_at: Date }>('status', 'last_reply_at');
    expect(ticket.last_reply_at.toISOString()).toBe('2026-02-01T10:00:00.000Z');
    // The backdated client reply still sets the status, and keeps its own time.
    expect(ticket.status).toBe('Customer-Reply');
    const stored = await fixture
      .db('ticket_replies')
      .where({ dedupe_key: backdated.dedupeKey })
      .first<{ created_at: Date }>('created_at');
    expect(stored.created_at.toISOString()).toBe('2020-05-04T03:02:01.000Z');
  });
});
