import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Job, QueueEvents } from 'bullmq';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { seedDemo, type DemoSeed, createPgBlobStore } from '@ticketflow/db';
import {
  createRedis,
  createReplyQueue,
  createReplyQueueEvents,
  replyJobOptions,
  type ReplyQueue,
} from '@ticketflow/queue';
import {
  createTestDatabase,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';
import { startReplyWorker, type ReplyWorker } from '../src/index.ts';

/** The repository root: `serve --worker` runs from there, as an operator would run it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Short enough that an abandoned job is seen as stalled within about a second, so a crash
 * test re-runs its job in a few seconds instead of BullMQ's default 30.
 */
const LOCK_MS = 1000;
const STALLED_MS = 500;

/** Retries allowed for each job: an invalid job must fail on the first anyway. */
const ATTEMPTS = 3;

let database: TestDatabase;
let db: Knex;
let seed: DemoSeed;
let prefix: string;
let queue: ReplyQueue;
let events: QueueEvents;
const connections: Array<{ disconnect(): void }> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  seed = await seedDemo(db);
  prefix = uniquePrefix();
  const producer = createRedis(redisUrl(), 'producer');
  const eventsConnection = createRedis(redisUrl(), 'worker');
  connections.push(producer, eventsConnection);
  queue = createReplyQueue(producer, prefix, { attempts: ATTEMPTS, backoffMs: 50 });
  events = createReplyQueueEvents(eventsConnection, prefix);
  await events.waitUntilReady();
});

afterAll(async () => {
  await events?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  for (const c of connections) c.disconnect();
  if (prefix) await deletePrefix(prefix);
  await database?.drop();
});

// ---------------------------------------------------------------------------------------------
// Factories and waits

let ticketCounter = 0;

/** A fresh ticket per test, so counts and status assertions never see another test's replies. */
async function newTicket(): Promise<number> {
  ticketCounter += 1;
  const [row] = await db('tickets')
    .insert({
      tid: `EO-${process.pid % 1000}-${ticketCounter}`,
      department_id: seed.departmentId,
      client_id: seed.clientId,
      contact_id: seed.contactId,
      subject: 'exactly once',
    })
    .returning<{ id: number }[]>('id');
  return row!.id;
}

/** A valid contract v1 job: a plain staff reply to `ticketId`, dedupe key = replyid. */
function replyJob(ticketId: number, overrides: Partial<ReplyJob> = {}): ReplyJob {
  const replyid = randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { id: ticketId },
    author: { type: 'staff', admin: 'Sam Staff' },
    message: 'We restarted the server.',
    markdown: false,
    status: null,
    noemail: true,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'api', principal: 'exactly-once-test' },
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Enqueues as the ingress does: contract job name, the producers' options, explicit id. */
function enqueue(data: ReplyJob, jobId = replyJobId(data.replyid)): Promise<Job> {
  return queue.add(REPLY_JOB, data, {
    ...replyJobOptions({ attempts: ATTEMPTS, backoffMs: 50 }),
    jobId,
  }) as Promise<Job>;
}

/** Polls `probe` until it returns a truthy value; fails naming `what` after the deadline. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  /** More to print on timeout, e.g. a child process's log. */
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function replyCount(where: Record<string, unknown>): Promise<number> {
  const [row] = await db('ticket_replies').where(where).count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

/**
 * Holds `SELECT … FOR UPDATE` on the ticket from the test's own transaction: the worker's
 * `UPDATE tickets` then waits, after its reply INSERT, inside its uncommitted transaction.
 * That is the "mid-job, before commit" point every crash test below stops a worker at.
 */
async function lockTicket(ticketId: number): Promise<{ release(): Promise<void> }> {
  const trx = await db.transaction();
  await trx('tickets').where({ id: ticketId }).forUpdate().select('id');
  const release = async () => {
    if (!trx.isCompleted()) await trx.rollback();
  };
  onTestFinished(release);
  return { release };
}

/** Backends of this database waiting on a lock: a worker transaction parked on the ticket row. */
async function blockedBackends(): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: number }[] }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]!.n;
}

async function waitUntilBlockedMidTransaction(
  job: Job,
  backends = 1,
  context?: () => string,
): Promise<void> {
  const active = async () => (await job.getState()) === 'active';
  await until(`job ${job.id} to be active`, active, 10_000, context);
  const blocked = async () => (await blockedBackends()) >= backends;
  await until(`${backends} transaction(s) to wait on the ticket row`, blocked, 10_000, context);
}

/** An in-process reply worker on this file's prefix, closed when the test ends. */
function startWorker(concurrency = 1): ReplyWorker {
  const connection = createRedis(redisUrl(), 'worker');
  const worker = startReplyWorker({
    db,
    blobs: createPgBlobStore(db),
    attachments: { extensions: ['.txt', '.pdf', '.png'], count: 10 },
    connection,
    prefix,
    concurrency,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: STALLED_MS,
    logger: pino({ level: 'silent' }),
  });
  onTestFinished(async () => {
    // Forced: a test that failed half-way may leave a job blocked; nothing should wait for it.
    await worker.worker.close(true);
    connection.disconnect();
  });
  return worker;
}

interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** `ticketflow serve --worker` as a real child process; SIGKILLed when the test ends. */
function spawnWorker(): WorkerProcess {
  const child = spawn(process.execPath, ['apps/cli/bin/ticketflow.mjs', 'serve', '--worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl(),
      TICKETFLOW_QUEUE_PREFIX: prefix,
      PORT: '0',
      TICKETFLOW_WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      TICKETFLOW_WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, output: () => output };
}

// ---------------------------------------------------------------------------------------------

describe('one reply per accepted request, however often BullMQ delivers it', () => {
  it('stores one reply when the same job is enqueued twice under two job ids', async () => {
    const ticketId = await newTicket();
    const data = replyJob(ticketId, { dedupeKey: `idempotency:client-7:${randomUUID()}` });
    const first = await enqueue(data, replyJobId(data.replyid));
    const second = await enqueue(data, `${replyJobId(data.replyid)}-redelivered`);
    expect(second.id).not.toBe(first.id);
    startWorker(1);

    await expect(first.waitUntilFinished(events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'inserted',
    });
    await expect(second.waitUntilFinished(events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'duplicate',
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
          ((await job.waitUntilFinished(events, 10_000)) as { outcome: string }).outcome,
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
    await expect(job.waitUntilFinished(events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'duplicate',
    });
    expect(stalled).toEqual([job.id]);
    const done = (await queue.getJob(job.id!))!;
    expect(done.stalledCounter).toBe(1);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    expect(await replyCount({ ticket_id: ticketId })).toBe(1);
  });

  it('re-runs a job whose worker process was SIGKILLed before commit, and stores one reply', async () => {
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
    const result: unknown = await job.waitUntilFinished(events, 15_000).catch((error: Error) => {
      throw new Error(`${error.message}\nworker output:\n${heir.output()}`);
    });
    // The killed process's transaction died with its connection, so the re-run inserts.
    expect(result).toEqual({ replyid: data.replyid, outcome: 'inserted' });
    expect((await queue.getJob(job.id!))!.stalledCounter).toBe(1);
    expect(await replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    const ticket = await db('tickets').where({ id: ticketId }).first<{ status: string }>('status');
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
        replyJob(t, { author: { type: 'client', clientid: seed.clientId, contactid: 999_999 } }),
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

      await expect(job.waitUntilFinished(events, 10_000)).rejects.toThrow(reason);
      const failed = (await queue.getJob(jobId))!;
      expect(await failed.getState()).toBe('failed');
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toContain(reason);

      // The dead letter is written from the worker's 'failed' handler, just after BullMQ's move.
      const letters = await until('the dead letter', async () => {
        const rows = await db('dead_letters')
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

    await job.waitUntilFinished(events, 10_000);
    const reply = await db('ticket_replies')
      .where({ dedupe_key: data.dedupeKey })
      .first<{ created_at: Date }>('created_at');
    const ticket = await db('tickets')
      .where({ id: ticketId })
      .first<{ status: string; last_reply_at: Date | null }>('status', 'last_reply_at');
    expect(ticket.status).toBe('On Hold');
    expect(ticket.last_reply_at).toEqual(reply.created_at);
  });

  it('does not move last_reply_at backwards for a reply created in the past', async () => {
    const ticketId = await newTicket();
    startWorker();
    const recent = replyJob(ticketId, { created: '2026-02-01T10:00:00.000Z' });
    await (await enqueue(recent)).waitUntilFinished(events, 10_000);

    const backdated = replyJob(ticketId, {
      author: { type: 'client', clientid: seed.clientId, contactid: seed.contactId },
      created: '2020-05-04T03:02:01.000Z',
    });
    await expect(
      (await enqueue(backdated)).waitUntilFinished(events, 10_000),
    ).resolves.toMatchObject({ outcome: 'inserted' });

    const ticket = await db('tickets')
      .where({ id: ticketId })
      .first<{ status: string; last_reply_at: Date }>('status', 'last_reply_at');
    expect(ticket.last_reply_at.toISOString()).toBe('2026-02-01T10:00:00.000Z');
    // The backdated client reply still sets the status, and keeps its own time.
    expect(ticket.status).toBe('Customer-Reply');
    const stored = await db('ticket_replies')
      .where({ dedupe_key: backdated.dedupeKey })
      .first<{ created_at: Date }>('created_at');
    expect(stored.created_at.toISOString()).toBe('2020-05-04T03:02:01.000Z');
  });
});
