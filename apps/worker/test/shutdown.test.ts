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
import { startReplyWorker } from '../src/index.ts';

/** The repository root: `serve --worker` runs from there, as an operator would run it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Short, so an abandoned job is re-run within seconds (BullMQ's default is 30 s). */
const LOCK_MS = 1000;
const STALLED_MS = 500;

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
  queue = createReplyQueue(producer, prefix, { attempts: 3, backoffMs: 50 });
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

let ticketCounter = 0;

async function newTicket(): Promise<number> {
  ticketCounter += 1;
  const [row] = await db('tickets')
    .insert({
      tid: `SD-${process.pid % 1000}-${ticketCounter}`,
      department_id: seed.departmentId,
      client_id: seed.clientId,
      contact_id: seed.contactId,
      subject: 'graceful shutdown',
    })
    .returning<{ id: number }[]>('id');
  return row!.id;
}

function replyJob(ticketId: number): ReplyJob {
  const replyid = randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { id: ticketId },
    author: { type: 'staff', admin: 'Sam Staff' },
    message: 'Deploying the fix now.',
    markdown: false,
    status: null,
    noemail: true,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'api', principal: 'shutdown-test' },
    receivedAt: new Date().toISOString(),
  };
}

function enqueue(data: ReplyJob): Promise<Job> {
  return queue.add(REPLY_JOB, data, {
    ...replyJobOptions({ attempts: 3, backoffMs: 50 }),
    jobId: replyJobId(data.replyid),
  }) as Promise<Job>;
}

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

async function replyCount(dedupeKey: string): Promise<number> {
  const [row] = await db('ticket_replies')
    .where({ dedupe_key: dedupeKey })
    .count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

/** Holds the ticket row so the worker's `UPDATE tickets` waits inside its open transaction. */
async function lockTicket(ticketId: number): Promise<{ release(): Promise<void> }> {
  const trx = await db.transaction();
  await trx('tickets').where({ id: ticketId }).forUpdate().select('id');
  const release = async () => {
    if (!trx.isCompleted()) await trx.rollback();
  };
  onTestFinished(release);
  return { release };
}

async function waitUntilBlockedMidTransaction(job: Job, worker: WorkerProcess): Promise<void> {
  const active = async () => (await job.getState()) === 'active';
  await until(`job ${job.id} to be active`, active, 10_000, worker.output);
  const blocked = async () => {
    const { rows } = await db.raw<{ rows: { n: number }[] }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0]!.n > 0;
  };
  await until('the worker transaction to wait on the ticket row', blocked, 10_000, worker.output);
}

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** `ticketflow serve --worker` as a real child process; SIGKILLed if a test leaves it running. */
function spawnWorker(shutdownTimeoutMs: number): WorkerProcess {
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
      TICKETFLOW_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      LOG_LEVEL: 'info',
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

/** The exit, or a failure carrying the process's log once `timeoutMs` has passed. */
async function exitWithin(
  worker: WorkerProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`worker did not exit within ${timeoutMs} ms of SIGTERM\n${worker.output()}`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([worker.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** An in-process worker standing in for the next deployment. */
function startLaterWorker(): void {
  const connection = createRedis(redisUrl(), 'worker');
  const later = startReplyWorker({
    db,
    blobs: createPgBlobStore(db),
    attachments: { extensions: ['.txt', '.pdf', '.png'], count: 10 },
    connection,
    prefix,
    concurrency: 4,
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: STALLED_MS,
    logger: pino({ level: 'silent' }),
  });
  onTestFinished(async () => {
    await later.worker.close(true);
    connection.disconnect();
  });
}

// ---------------------------------------------------------------------------------------------

describe('SIGTERM on a worker process', () => {
  it('finishes the active job, takes no new one and exits 0 within the shutdown timeout', async () => {
    const SHUTDOWN_MS = 5000;
    const ticketId = await newTicket();
    const lock = await lockTicket(ticketId);
    const data = replyJob(ticketId);
    const job = await enqueue(data);
    const worker = spawnWorker(SHUTDOWN_MS);
    await waitUntilBlockedMidTransaction(job, worker);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    await until('the worker to start draining', () =>
      Promise.resolve(worker.output().includes('shutting down')),
    );
    // Draining: still running, holding the active job, and fetching nothing new.
    const late = replyJob(ticketId);
    const lateJob = await enqueue(late);
    expect(worker.child.exitCode).toBeNull();
    await lock.release();

    expect(await exitWithin(worker, SHUTDOWN_MS + 1000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(SHUTDOWN_MS);
    expect(worker.output()).toContain('"msg":"stopped"');
    const done = (await queue.getJob(job.id!))!;
    expect(await done.getState()).toBe('completed');
    expect(done.returnvalue).toEqual({ replyid: data.replyid, outcome: 'inserted' });
    expect(done.stalledCounter).toBe(0);
    expect(await replyCount(data.dedupeKey)).toBe(1);

    // The job that arrived during the drain was left for the next worker, not lost.
    expect(await lateJob.getState()).toBe('waiting');
    startLaterWorker();
    await expect(lateJob.waitUntilFinished(events, 10_000)).resolves.toMatchObject({
      outcome: 'inserted',
    });
    expect(await replyCount(late.dedupeKey)).toBe(1);
  });

  it('abandons a job that outlasts the shutdown timeout, exits 0, and a later worker completes it once', async () => {
    const SHUTDOWN_MS = 1500;
    const ticketId = await newTicket();
    const lock = await lockTicket(ticketId);
    const data = replyJob(ticketId);
    const job = await enqueue(data);
    const worker = spawnWorker(SHUTDOWN_MS);
    await waitUntilBlockedMidTransaction(job, worker);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    // The lock is still held: the job cannot finish, so only the timeout can end the drain.
    const exit = await exitWithin(worker, SHUTDOWN_MS + 3000);
    const drainMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(drainMs).toBeGreaterThanOrEqual(SHUTDOWN_MS - 100);
    expect(worker.output()).toContain('did not finish in time');
    expect(await replyCount(data.dedupeKey)).toBe(0);

    await lock.release();
    startLaterWorker();
    await expect(job.waitUntilFinished(events, 10_000)).resolves.toEqual({
      replyid: data.replyid,
      outcome: 'inserted',
    });
    expect((await queue.getJob(job.id!))!.stalledCounter).toBe(1);
    expect(await replyCount(data.dedupeKey)).toBe(1);
  });
});
