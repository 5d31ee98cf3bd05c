import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { bridgeSettings } from '@ticketflow/bridge';
import { parseConfig, type Config } from '@ticketflow/config';
import { createPgBlobStore, seedDemo, type DemoSeed } from '@ticketflow/db';
import {
  createRedis,
  jobCatalog,
  openQueue,
  openQueueEvents,
  type ReplyQueue,
  settleWithin,
} from '@ticketflow/queue';
import {
  createTestDatabase,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';
import { startWorkers, type Workers } from '@ticketflow/worker';
import {
  answerClientErrors,
  createIngressApp,
  createTokenVerifier,
  signToken,
  type Role,
} from '../src/index.ts';

/** Rows beyond the demo seed that tests reach for. */
export interface TestSeed extends DemoSeed {
  /** Another client, with its own contact and ticket: the cross-client cases. */
  otherClientId: number;
  otherContactId: number;
  otherTicketId: number;
  /** A ticket opened by a guest (no client). */
  guestTicketId: number;
}

export interface TestStack {
  url: string;
  config: Config;
  database: TestDatabase;
  queue: ReplyQueue;
  seed: TestSeed;
  token(claims: {
    role: Role;
    sub?: string;
    clientid?: number;
    admin?: string;
    scope?: string;
    ttlSeconds?: number;
  }): string;
  /** A client token for the seeded client. */
  clientToken: string;
  staffToken: string;
  /** The log lines, when started with `captureLogs`. */
  logged: Array<Record<string, unknown>>;
  /** Every worker of `serve --worker`: replies, notifications, maintenance. */
  worker: Workers | undefined;
  close(): Promise<void>;
}

/** A fresh cloned database holding the test rows, and a BullMQ prefix no other test uses. */
export interface TestStores {
  database: TestDatabase;
  seed: TestSeed;
  prefix: string;
  /** Deletes the prefix's keys and drops the database. */
  drop: () => Promise<void>;
}

export async function createTestStores(): Promise<TestStores> {
  const database = await createTestDatabase();
  const prefix = uniquePrefix();
  const seed = await seedTestRows(database);
  return {
    database,
    seed,
    prefix,
    drop: async () => {
      await deletePrefix(prefix);
      await database.drop();
    },
  };
}

/**
 * The real ingress on a real socket (port 0), over a fresh cloned database and a unique
 * BullMQ prefix, with the real reply worker unless `worker: false`.
 */
export async function startStack(
  options: {
    worker?: boolean;
    env?: Record<string, string>;
    /** Keep every log line (access log on) in `logged`, for tests of what is logged. */
    captureLogs?: boolean;
  } = {},
): Promise<TestStack> {
  const { database, seed, prefix, drop } = await createTestStores();
  // Notification email of tests lands here, never in the repository's .ticketflow/mail.
  const mailDir = await mkdtemp(join(tmpdir(), 'tf-mail-'));
  const config = parseConfig({
    TICKETFLOW_MAIL_DIR: mailDir,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    TICKETFLOW_QUEUE_PREFIX: prefix,
    TICKETFLOW_JWT_SECRET: randomBytes(32).toString('hex'),
    TICKETFLOW_WORKER_CONCURRENCY: '4',
    TICKETFLOW_REPLY_BACKOFF_MS: '50',
    ...options.env,
  });
  const logged: Array<Record<string, unknown>> = [];
  const logger = options.captureLogs
    ? pino(
        { level: 'info' },
        { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) },
      )
    : pino({ level: 'silent' });
  const producer = createRedis(config.redisUrl, 'producer');
  const catalog = jobCatalog(config);
  const queue = openQueue<ReplyQueue>(catalog.replies, producer, prefix);
  const queueEvents = openQueueEvents(catalog.replies, producer, prefix);
  await queueEvents.waitUntilReady();
  const app = createIngressApp({
    db: database.db,
    blobs: createPgBlobStore(database.db),
    queue,
    replyJob: catalog.replies.jobs.reply,
    queueEvents: () => Promise.resolve(queueEvents),
    redis: producer,
    queuePrefix: prefix,
    verifyToken: createTokenVerifier({
      key: { kind: 'secret', secret: config.jwt.secret! },
      audience: config.jwt.audience,
      issuer: config.jwt.issuer,
    }),
    logger,
    accessLog: options.captureLogs === true,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    rateLimits: config.rateLimits,
    idempotencyTtlHours: config.idempotencyTtlHours,
    inboundEmail: bridgeSettings(config),
  });
  const server = app.listen(0, '127.0.0.1');
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const workerConnection =
    options.worker === false ? undefined : createRedis(config.redisUrl, 'worker');
  const worker = workerConnection
    ? startWorkers({
        config,
        db: database.db,
        blobs: createPgBlobStore(database.db),
        connection: workerConnection,
        observer: producer,
        logger,
      })
    : undefined;

  const token: TestStack['token'] = (claims) =>
    signToken({
      secret: config.jwt.secret!,
      audience: config.jwt.audience,
      issuer: config.jwt.issuer,
      role: claims.role,
      sub: claims.sub ?? `${claims.role}-test`,
      ...(claims.clientid !== undefined ? { clientid: claims.clientid } : {}),
      ...(claims.admin !== undefined ? { admin: claims.admin } : {}),
      ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
      ttlSeconds: claims.ttlSeconds ?? 600,
    });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    config,
    database,
    queue,
    seed,
    token,
    clientToken: token({ role: 'client', sub: `client-${seed.clientId}`, clientid: seed.clientId }),
    staffToken: token({ role: 'staff', sub: 'staff-test', admin: 'Test Staff' }),
    worker,
    logged,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await worker?.close(5000);
      // With Redis down (outage tests) closing BullMQ objects would wait forever.
      await settleWithin(2000, queueEvents.close());
      await settleWithin(2000, queue.close());
      producer.disconnect();
      workerConnection?.disconnect();
      await drop();
      await rm(mailDir, { recursive: true, force: true });
    },
  };
}

async function seedTestRows(database: TestDatabase): Promise<TestSeed> {
  const demo = await seedDemo(database.db);
  const db = database.db;
  const [other] = await db('clients')
    .insert({ name: 'Other Client', email: 'other@client.example' })
    .returning<{ id: number }[]>('id');
  const [otherContact] = await db('contacts')
    .insert({ client_id: other!.id, name: 'Other Contact', email: 'contact@other.example' })
    .returning<{ id: number }[]>('id');
  const [otherTicket] = await db('tickets')
    .insert({
      tid: 'OTHER-1',
      department_id: demo.departmentId,
      client_id: other!.id,
      subject: 'Other client ticket',
    })
    .returning<{ id: number }[]>('id');
  const [guestTicket] = await db('tickets')
    .insert({
      tid: 'GUEST-1',
      department_id: demo.departmentId,
      name: 'Guest',
      email: 'guest@example.com',
      subject: 'Guest ticket',
    })
    .returning<{ id: number }[]>('id');
  return {
    ...demo,
    otherClientId: other!.id,
    otherContactId: otherContact!.id,
    otherTicketId: otherTicket!.id,
    guestTicketId: guestTicket!.id,
  };
}
