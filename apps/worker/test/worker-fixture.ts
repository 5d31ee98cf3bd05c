import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { createPgBlobStore, seedDemo, type DemoSeed } from '@ticketflow/db';
import { parseConfig } from '@ticketflow/config';
import {
  createRedis,
  jobCatalog,
  jobOptions,
  openQueue,
  openQueueEvents,
  type ReplyQueue,
} from '@ticketflow/queue';
import {
  createTestDatabase,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';
import { until } from '@ticketflow/testing/peers';
import { createNotificationDispatcher } from '../src/dispatch-notifications.ts';
import { faultPoints } from '../src/fault-points.ts';
import { startReplyWorker } from '../src/reply-worker.ts';
import type { QueueWorker } from '../src/start-queue-worker.ts';

/** The repository root: `serve --worker` runs from there, as an operator would run it. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Short enough that an abandoned job is seen as stalled within about a second, so a crash
 * test re-runs its job in a few seconds instead of BullMQ's default 30.
 */
export const LOCK_MS = 1000;
export const STALLED_MS = 500;

/** Retries allowed for each job: an invalid job must fail on the first anyway. */
export const ATTEMPTS = 3;

/** The catalog as the tests' workers and producers see it: 3 attempts, 50 ms backoff. */
export const CATALOG = jobCatalog(
  parseConfig({ TICKETFLOW_REPLY_ATTEMPTS: String(ATTEMPTS), TICKETFLOW_REPLY_BACKOFF_MS: '50' }),
);

/** A fresh database with the demo seed, and a Redis key prefix no other test file uses. */
export interface TestStores {
  readonly database: TestDatabase;
  readonly db: Knex;
  readonly seed: DemoSeed;
  readonly prefix: string;
}

/**
 * Creates this file's {@link TestStores} before its tests and drops them after. Register the
 * file's own `afterAll` (closing queues and workers) after calling this: vitest runs `afterAll`
 * hooks in reverse order, so those close before the prefix and the database go.
 */
export function useTestStores(): TestStores {
  let database: TestDatabase | undefined;
  let seed: DemoSeed | undefined;
  let prefix: string | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    seed = await seedDemo(database.db);
    prefix = uniquePrefix();
  });

  afterAll(async () => {
    if (prefix) await deletePrefix(prefix);
    await database?.drop();
  });

  return {
    get database() {
      return ready(database);
    },
    get db() {
      return ready(database).db;
    },
    get seed() {
      return ready(seed);
    },
    get prefix() {
      return ready(prefix);
    },
  };
}

function ready<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the worker test fixture is used before beforeAll');
  return value;
}

// ---------------------------------------------------------------------------------------------
// Waits

// ---------------------------------------------------------------------------------------------
// Reply jobs

export { replyJob, until } from '@ticketflow/testing/peers';

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** {@link TestStores} plus a reply queue on its prefix, and helpers bound to both. */
export interface WorkerFixture extends TestStores {
  readonly queue: ReplyQueue;
  readonly events: QueueEvents;
  /** A fresh ticket per test, so counts and status assertions never see another test's replies. */
  newTicket: () => Promise<number>;
  /** Enqueues as the ingress does: contract job name, the producers' options, explicit id. */
  enqueue: (data: ReplyJob, jobId?: string) => Promise<Job>;
  replyCount: (where: Record<string, unknown>) => Promise<number>;
  /**
   * Holds `SELECT … FOR UPDATE` on the ticket from the test's own transaction: the worker's
   * `UPDATE tickets` then waits, after its reply INSERT, inside its uncommitted transaction.
   * That is the "mid-job, before commit" point the crash and shutdown tests stop a worker at.
   */
  lockTicket: (ticketId: number) => Promise<{ release(): Promise<void> }>;
  /** Waits until `job` is active and `backends` transactions wait on a row lock. */
  waitUntilBlockedMidTransaction: (
    job: Job,
    backends?: number,
    context?: () => string,
  ) => Promise<void>;
  /** An in-process reply worker on this file's prefix, closed when the test ends. */
  startWorker: (concurrency?: number) => QueueWorker;
  /**
   * `ticketflow serve --worker` as a real child process, with `env` added to its environment;
   * SIGKILLed if the test leaves it running.
   */
  spawnWorker: (env?: Record<string, string>) => WorkerProcess;
}

/**
 * The setup the reply worker tests share: {@link useTestStores}, a reply queue and its events
 * on the file's prefix (closed after the file), and helpers bound to them. New tickets are
 * named `<tidPrefix>-…` with `subject`.
 */
export function useWorkerFixture(tickets: { tidPrefix: string; subject: string }): WorkerFixture {
  const stores = useTestStores();
  let queue: ReplyQueue | undefined;
  let notifications: Queue | undefined;
  let events: QueueEvents | undefined;
  const connections: Array<{ disconnect(): void }> = [];

  beforeAll(async () => {
    const producer = createRedis(redisUrl(), 'producer');
    connections.push(producer);
    queue = openQueue<ReplyQueue>(CATALOG.replies, producer, stores.prefix);
    notifications = openQueue(CATALOG.notifications, producer, stores.prefix);
    const opened = openQueueEvents(CATALOG.replies, producer, stores.prefix);
    events = opened;
    await opened.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await notifications?.obliterate({ force: true }).catch(() => undefined);
    await notifications?.close();
    for (const c of connections) c.disconnect();
  });

  let ticketCounter = 0;

  async function newTicket(): Promise<number> {
    ticketCounter += 1;
    const [row] = await stores
      .db('tickets')
      .insert({
        tid: `${tickets.tidPrefix}-${process.pid % 1000}-${ticketCounter}`,
        department_id: stores.seed.departmentId,
        client_id: stores.seed.clientId,
        contact_id: stores.seed.contactId,
        subject: tickets.subject,
      })
      .returning<{ id: number }[]>('id');
    return row!.id;
  }

  function enqueue(data: ReplyJob, jobId = replyJobId(data.replyid)): Promise<Job> {
    return ready(queue).add(
      REPLY_JOB,
      data,
      jobOptions(CATALOG.replies.jobs.reply, jobId),
    ) as Promise<Job>;
  }

  async function replyCount(where: Record<string, unknown>): Promise<number> {
    const [row] = await stores
      .db('ticket_replies')
      .where(where)
      .count<{ count: string }[]>('* as count');
    return Number(row!.count);
  }

  async function lockTicket(ticketId: number): Promise<{ release(): Promise<void> }> {
    const trx = await stores.db.transaction();
    await trx('tickets').where({ id: ticketId }).forUpdate().select('id');
    const release = async () => {
      if (!trx.isCompleted()) await trx.rollback();
    };
    onTestFinished(release);
    return { release };
  }

  /** Backends of this database waiting on a lock: a worker transaction parked on the ticket row. */
  async function blockedBackends(): Promise<number> {
    const { rows } = await stores.db.raw<{ rows: { n: number }[] }>(
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

  function startWorker(concurrency = 1): QueueWorker {
    const connection = createRedis(redisUrl(), 'worker');
    const worker = startReplyWorker({
      db: stores.db,
      blobs: createPgBlobStore(stores.db),
      attachments: { extensions: ['.txt', '.pdf', '.png'], count: 10 },
      dispatch: createNotificationDispatcher(
        ready(notifications),
        CATALOG.notifications,
        stores.db,
      ),
      catalog: CATALOG,
      connection,
      prefix: stores.prefix,
      concurrency,
      lockDurationMs: LOCK_MS,
      stalledIntervalMs: STALLED_MS,
      logger: pino({ level: 'silent' }),
      hitFault: faultPoints([]),
    });
    onTestFinished(async () => {
      // Forced: a test that failed half-way may leave a job blocked; nothing should wait for it.
      await worker.worker.close(true);
      connection.disconnect();
    });
    return worker;
  }

  function spawnWorker(env: Record<string, string> = {}): WorkerProcess {
    const child = spawn(process.execPath, ['apps/cli/bin/ticketflow.mjs', 'serve', '--worker'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: stores.database.url,
        REDIS_URL: redisUrl(),
        TICKETFLOW_QUEUE_PREFIX: stores.prefix,
        PORT: '0',
        TICKETFLOW_WORKER_LOCK_DURATION_MS: String(LOCK_MS),
        TICKETFLOW_WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
        LOG_LEVEL: 'warn',
        // Notification email of a spawned worker never lands in the repository.
        TICKETFLOW_MAIL_DIR: join(tmpdir(), `tf-mail-${stores.prefix}`),
        ...env,
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

  return {
    get database() {
      return stores.database;
    },
    get db() {
      return stores.db;
    },
    get seed() {
      return stores.seed;
    },
    get prefix() {
      return stores.prefix;
    },
    get queue() {
      return ready(queue);
    },
    get events() {
      return ready(events);
    },
    newTicket,
    enqueue,
    replyCount,
    lockTicket,
    waitUntilBlockedMidTransaction,
    startWorker,
    spawnWorker,
  };
}
