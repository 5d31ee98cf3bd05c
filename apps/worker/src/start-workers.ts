import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '@ticketflow/config';
import type { BlobStore, Db } from '@ticketflow/db';
import { jobCatalog, openQueue, settleWithin, type RedisClient } from '@ticketflow/queue';
import { createNotificationDispatcher } from './dispatch-notifications.ts';
import { mailDomain } from './email/mail-domain.ts';
import { createMailSender } from './email/mail-sender.ts';
import { faultPoints } from './fault-points.ts';
import { startMaintenanceWorker } from './maintenance-worker.ts';
import { startNotificationWorker } from './notification-worker.ts';
import { startReplyWorker } from './reply-worker.ts';
import { EndpointLimiter } from './webhooks/endpoint-limiter.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/**
 * The record purge runs hourly, fixed rather than configured: retentions are counted in days
 * (idempotency keys in hours), so a purge an hour late keeps nothing meaningfully longer, and
 * each run deletes only what expired during the hour before.
 */
const PURGE_EVERY_MS = 3_600_000;

export interface Workers {
  /** Where development mail goes (`.eml` files), or undefined when SMTP is configured. */
  mailDir: string | undefined;
  /** Per queue, `ok` or why its worker is not consuming (for /readyz). */
  health(): Record<string, string>;
  /** Drains every worker within `timeoutMs`, then closes what they opened. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Every worker of a `serve --worker` process: replies, notifications and maintenance, on the
 * one job catalog. The reply worker enqueues each stored reply's notifications at once; the
 * maintenance worker sweeps what a crash left behind.
 */
export function startWorkers(options: {
  config: Config;
  db: Db;
  blobs: BlobStore;
  /** A connection with `maxRetriesPerRequest: null`, shared by the workers and the dispatcher. */
  connection: RedisClient;
  /** Another connection, that fails fast, for the consumption watchdog to read the queues. */
  observer: RedisClient;
  logger: Logger;
  /** Given when metrics are on (TICKETFLOW_METRICS). */
  metrics?: WorkerMetrics;
}): Workers {
  const { config, db, connection, logger, metrics } = options;
  const catalog = jobCatalog(config);
  const hitFault = faultPoints(config.faultPoints);
  const watchdog = {
    everyMs: config.watchdogMs / 4,
    windowMs: config.watchdogMs,
    connection: options.observer,
  };
  const prefix = config.queuePrefix;
  // Every queue's jobs: how long a job stays its worker's, and how often abandoned ones are found.
  const locks = {
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
  };
  const notifications = openQueue(catalog.notifications, connection, prefix);
  notifications.on('error', (error) =>
    logger.warn({ err: error.message }, 'notifications queue: Redis error'),
  );
  const dispatch = createNotificationDispatcher(notifications, catalog.notifications, db);
  const dispatchOrLog = (refs: Parameters<typeof dispatch>[0]) =>
    dispatch(refs).catch((error: unknown) =>
      // The reply is stored; the outbox sweep enqueues these rows later.
      logger.warn({ err: (error as Error).message }, 'could not enqueue notifications now'),
    );
  const mailDir = config.mail.smtpUrl ? undefined : resolve(config.mail.dir);
  const mail = createMailSender({ smtpUrl: config.mail.smtpUrl, mailDir: mailDir ?? '' });
  const workers = [
    startReplyWorker({
      db,
      blobs: options.blobs,
      attachments: {
        extensions: config.limits.attachmentExtensions,
        count: config.limits.attachments,
      },
      dispatch: dispatchOrLog,
      catalog,
      connection,
      prefix,
      concurrency: config.worker.concurrency,
      ...locks,
      logger,
      hitFault,
      watchdog,
      metrics,
    }),
    startNotificationWorker({
      db,
      mail,
      mailFrom: config.mail.from,
      messageIds: { domain: mailDomain(config.mail.from), secret: config.mail.secret },
      webhooks: config.webhooks,
      limiter: new EndpointLimiter(config.webhooks.perEndpointConcurrency),
      catalog,
      connection,
      prefix,
      concurrency: config.notifyConcurrency,
      ...locks,
      webhookScheduleMs: config.webhooks.scheduleMs,
      logger,
      hitFault,
      watchdog,
      metrics,
    }),
    startMaintenanceWorker({
      db,
      blobs: options.blobs,
      catalog,
      connection,
      prefix,
      blobGraceMs: config.blobSweep.graceHours * 3_600_000,
      blobSweepEveryMs: config.blobSweep.everyMinutes * 60_000,
      outboxSweepMs: config.outboxSweepMs,
      inboundEmailRetentionDays: config.inboundEmailRetentionDays,
      purgeEveryMs: PURGE_EVERY_MS,
      ...locks,
      dispatch,
      logger,
      hitFault,
      watchdog,
      metrics,
    }),
  ];
  return {
    mailDir,
    health: () => Object.fromEntries(workers.map((w) => [w.worker.name, w.health()])),
    async close(timeoutMs) {
      await Promise.all(workers.map((w) => w.close(timeoutMs)));
      await settleWithin(2000, notifications.close());
      mail.close();
    },
  };
}
