import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { pino } from 'pino';
import { parseConfig } from '@ticketflow/config';
import { REPLY_JOB, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { createPgBlobStore, findDeadLetter, type Db } from '@ticketflow/db';
import {
  answerClientErrors,
  createIngressApp,
  createTokenVerifier,
  signToken,
} from '@ticketflow/ingress';
import {
  createRedis,
  jobCatalog,
  jobOptions,
  openQueue,
  openQueueEvents,
  type ReplyQueue,
} from '@ticketflow/queue';
import { createTestDatabase, deletePrefix, redisUrl, uniquePrefix } from '@ticketflow/testing';
import { until } from '@ticketflow/testing/peers';
import { replayDeadLetter, startWorkers } from '@ticketflow/worker';
import { createDashboard } from '../src/index.ts';

/** What a guest wrote in the failed replies: none of it may appear on the dashboard. */
export const SECRET = {
  name: 'Grace Hopper',
  email: 'grace.hopper@example.com',
  message: 'my card number is 4111 1111 1111 1111',
  attachment: Buffer.from('passport scan').toString('base64'),
};

export interface DashboardStack {
  /** Origin of the ingress, e.g. http://127.0.0.1:40123. */
  url: string;
  db: Db;
  /** The replies queue, as a producer sees it. */
  replies: Queue;
  /** An ops token (`scope` adds e.g. ops:write), or a token of another role. */
  token(claims: { role?: 'ops' | 'client' | 'staff' | 'bridge'; scope?: string }): string;
  /**
   * Adds reply jobs for a ticket that does not exist and runs the real workers until each is
   * failed and dead-lettered; answers their job ids. The workers stop again, so a retried job
   * stays where the test can see it.
   */
  failReplies(count: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The real ingress (as `serve` builds it) with the dashboard mounted, on port 0, over a fresh
 * cloned database and a unique BullMQ prefix; dead letters are replayed by the worker package's
 * `replayDeadLetter`, as `serve` wires it.
 */
export async function startDashboardStack(): Promise<DashboardStack> {
  const database = await createTestDatabase();
  const prefix = uniquePrefix();
  const mailDir = await mkdtemp(join(tmpdir(), 'tf-dashboard-mail-'));
  const config = parseConfig({
    TICKETFLOW_MAIL_DIR: mailDir,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    TICKETFLOW_QUEUE_PREFIX: prefix,
    TICKETFLOW_JWT_SECRET: randomBytes(32).toString('hex'),
  });
  const secret = config.jwt.secret!;
  const logger = pino({ level: 'silent' });
  const producer = createRedis(config.redisUrl, 'producer');
  const catalog = jobCatalog(config);
  const replies = openQueue<ReplyQueue>(catalog.replies, producer, prefix);
  const queueEvents = openQueueEvents(catalog.replies, producer, prefix);
  const verifyToken = createTokenVerifier({
    key: { kind: 'secret', secret },
    audience: config.jwt.audience,
    issuer: config.jwt.issuer,
  });
  const dashboard = createDashboard({
    catalog,
    connection: producer,
    queuePrefix: prefix,
    db: database.db,
    verifyToken,
    xsrfSecret: secret,
    replayDeadLetter,
    logger,
  });
  const app = createIngressApp({
    db: database.db,
    blobs: createPgBlobStore(database.db),
    queue: replies,
    replyJob: catalog.replies.jobs.reply,
    queueEvents: () => Promise.resolve(queueEvents),
    redis: producer,
    queuePrefix: prefix,
    verifyToken,
    logger,
    accessLog: false,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    rateLimits: config.rateLimits,
    idempotencyTtlHours: config.idempotencyTtlHours,
    mounts: [[dashboard.path, dashboard.router]],
  });
  const server = app.listen(0, '127.0.0.1');
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    db: database.db,
    replies,
    token: ({ role = 'ops', scope }) =>
      signToken({
        secret,
        audience: config.jwt.audience,
        issuer: config.jwt.issuer,
        role,
        sub: `${role}-dashboard-test`,
        ...(role === 'client' ? { clientid: 1 } : {}),
        ...(scope !== undefined ? { scope } : {}),
        ttlSeconds: 600,
      }),
    async failReplies(count) {
      const jobIds: string[] = [];
      for (let i = 0; i < count; i++) {
        const job = guestReplyToMissingTicket();
        const jobId = replyJobId(job.replyid);
        await replies.add(REPLY_JOB, job, jobOptions(catalog.replies.jobs.reply, jobId));
        jobIds.push(jobId);
      }
      const connection = createRedis(config.redisUrl, 'worker');
      const workers = startWorkers({
        config,
        db: database.db,
        blobs: createPgBlobStore(database.db),
        connection,
        observer: producer,
        logger,
      });
      try {
        for (const jobId of jobIds) {
          await until(`dead letter of ${jobId}`, () =>
            findDeadLetter(database.db, catalog.replies.name, jobId),
          );
        }
      } finally {
        await workers.close(5000);
        connection.disconnect();
      }
      return jobIds;
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await dashboard.close();
      await queueEvents.close();
      await replies.close();
      producer.disconnect();
      await deletePrefix(prefix);
      await database.drop();
      await rm(mailDir, { recursive: true, force: true });
    },
  };
}

/** A valid v1 reply job from a guest, carrying everything the dashboard must redact. */
function guestReplyToMissingTicket(): ReplyJob {
  const replyid = randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { num: 'NO-SUCH-1' },
    author: { type: 'guest', name: SECRET.name, email: SECRET.email },
    message: SECRET.message,
    markdown: false,
    status: null,
    noemail: true,
    created: null,
    customfields: [],
    attachments: [{ name: 'scan.txt', data: SECRET.attachment }],
    source: { kind: 'api', principal: 'dashboard-test' },
    receivedAt: new Date().toISOString(),
  };
}
