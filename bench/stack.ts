import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseConfig } from '@ticketflow/config';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeys } from '@ticketflow/testing/redis';
import { createDb, ensureDatabase, migrateLatest, seedDemo, type Db } from '@ticketflow/db';
import type { DemoSeed } from '@ticketflow/db';
import { signToken } from '@ticketflow/ingress';
import { redisPid, startCpuMeter, type CpuMeter } from './cpu.ts';

/** The product's own defaults, which both sides of every worker ratio run with. */
export const PRODUCT_DEFAULTS = parseConfig({});

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The table baseline (d) inserts into: what a hand-written worker would write. */
export const BASELINE_TABLE = 'bench_replies';

/** Everything one `npm run bench` shares: its database, Redis, secret and token. */
export interface BenchStack {
  runId: string;
  databaseUrl: string;
  redisUrl: string;
  db: Db;
  redis: Redis;
  seed: DemoSeed;
  secret: string;
  audience: string;
  /** A client token for the seeded ticket's client, used by every side of every ratio. */
  token: string;
  /** Starts counting the CPU these processes, Redis, PostgreSQL and the load generator spend. */
  cpuMeter(servicePids: readonly number[]): CpuMeter;
  /** A BullMQ prefix of its own for one process of one scenario. */
  prefix(label: string): string;
  /** The environment every child gets: product and baselines read the same variables. */
  env(prefix: string): Record<string, string>;
  close(): Promise<void>;
}

/** Creates `tf_bench_<random>`, migrates it and seeds the demo ticket. */
export async function createStack(): Promise<BenchStack> {
  const runId = randomBytes(4).toString('hex');
  const url = new URL(ADMIN_URL);
  url.pathname = `/tf_bench_${runId}`;
  const databaseUrl = url.toString();
  await ensureDatabase(databaseUrl);
  const db = createDb(databaseUrl, 4);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const close = async () => {
    await deleteKeys(redis, `tfbench-${runId}-*`).catch(() => undefined);
    redis.disconnect();
    await db.destroy();
    await dropDatabase(`tf_bench_${runId}`);
  };
  try {
    await migrateLatest(db);
    const seed = await seedDemo(db);
    await db.schema.createTable(BASELINE_TABLE, (t) => {
      t.bigIncrements('id');
      t.uuid('reply_uid').notNullable();
      t.integer('ticket_id').notNullable();
      t.text('message').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    });
    const redisProcess = await redisPid(redis);
    const secret = randomBytes(32).toString('hex');
    const audience = 'ticketflow';
    const token = signToken({
      secret,
      audience,
      issuer: undefined,
      role: 'client',
      sub: 'bench-client',
      clientid: seed.clientId,
      ttlSeconds: 6 * 3600,
    });
    return {
      runId,
      databaseUrl,
      redisUrl: REDIS_URL,
      db,
      redis,
      seed,
      secret,
      audience,
      token,
      cpuMeter: (servicePids) => startCpuMeter(servicePids, redisProcess),
      prefix: (label) => `tfbench-${runId}-${label}-${randomBytes(3).toString('hex')}`,
      env: (prefix) => ({
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        TICKETFLOW_QUEUE_PREFIX: prefix,
        TICKETFLOW_JWT_SECRET: secret,
        TICKETFLOW_JWT_AUDIENCE: audience,
        // The bench measures throughput, not the limiter: every request must be accepted.
        TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: '1000000000',
        TICKETFLOW_RATE_LIMIT_PER_TICKET: '1000000000',
        // Explicit, so the baselines read the very values the product defaults to.
        TICKETFLOW_WORKER_CONCURRENCY: String(PRODUCT_DEFAULTS.worker.concurrency),
        TICKETFLOW_DB_POOL_MAX: String(PRODUCT_DEFAULTS.dbPoolMax),
        TICKETFLOW_REPLY_ATTEMPTS: String(PRODUCT_DEFAULTS.worker.attempts),
        TICKETFLOW_REPLY_BACKOFF_MS: String(PRODUCT_DEFAULTS.worker.backoffMs),
        TICKETFLOW_NOTIFY_CONCURRENCY: String(PRODUCT_DEFAULTS.notifyConcurrency),
        // Never the repository's .ticketflow/mail: a scenario that sends mail without an SMTP
        // sink writes its .eml files under the system's temporary folder.
        TICKETFLOW_MAIL_DIR: join(tmpdir(), `tfbench-mail-${runId}`),
        LOG_LEVEL: 'info',
      }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function dropDatabase(name: string): Promise<void> {
  const admin = createDb(ADMIN_URL, 1);
  try {
    // FORCE: a child killed mid-query may leave a backend that would block the drop.
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
  } finally {
    await admin.destroy();
  }
}
