import type { QueueEvents } from 'bullmq';
import { bridgeSettings, MAIL_OUTCOMES } from '@ticketflow/bridge';
import type { Config } from '@ticketflow/config';
import { createDashboard } from '@ticketflow/dashboard';
import { createDb, createPgBlobStore } from '@ticketflow/db';
import {
  createHealthApp,
  createIngressApp,
  createMetricsEndpoint,
  type IngressDeps,
} from '@ticketflow/ingress';
import { createMetrics } from '@ticketflow/metrics';
import {
  createRedis,
  jobCatalog,
  openQueue,
  openQueueEvents,
  settleWithin,
  type ReplyQueue,
} from '@ticketflow/queue';
import { replayDeadLetter, startWorkers } from '@ticketflow/worker';
import { createLogger, loadTokenVerifier } from '../runtime.ts';
import { listenHttp } from './listen-http.ts';

export interface ServeModes {
  ingress: boolean;
  worker: boolean;
}

/**
 * Runs the ingress, the workers (replies, notifications, maintenance), or both (one process is
 * a complete installation). Every mode listens on PORT; a worker alone serves only /healthz,
 * /readyz and /metrics. SIGTERM or SIGINT drains: stop accepting, finish in-flight requests and
 * active jobs within the timeout, close.
 */
export async function serve(config: Config, modes: ServeModes): Promise<void> {
  const logger = createLogger(config);
  // The API and /metrics (every mode) share one verifier, and its cache of verified tokens.
  const auth = modes.ingress || config.metrics ? loadTokenVerifier(config, logger) : undefined;
  const key = auth?.key;
  const verifyToken = auth?.verifyToken;
  const db = createDb(config.databaseUrl, config.dbPoolMax);
  const blobs = createPgBlobStore(db);
  const producer = createRedis(config.redisUrl, 'producer', config.redisClusterNodes);
  const connections = [producer];
  const closers: Array<() => Promise<unknown>> = [];
  const catalog = jobCatalog(config);
  const metrics = config.metrics
    ? createMetrics({
        queues: { catalog, redis: producer, prefix: config.queuePrefix },
        ...(modes.ingress ? { mailOutcomes: MAIL_OUTCOMES } : {}),
      })
    : undefined;
  const mounts: Array<NonNullable<IngressDeps['mounts']>[number]> = [];
  if (metrics && verifyToken) {
    closers.push(() => metrics.close());
    mounts.push(['/metrics', createMetricsEndpoint(verifyToken, metrics.scrape)]);
  }

  let app;
  if (modes.ingress && key && verifyToken) {
    const queue = openQueue<ReplyQueue>(catalog.replies, producer, config.queuePrefix);
    // Outages reach the log once through pino, not as raw stacks from BullMQ's default handler.
    queue.on('error', (error) => logger.warn({ err: error.message }, 'reply queue: Redis error'));
    // The event stream is opened on the first `Prefer: wait`: reading every job's events costs
    // an ingress that never waits CPU and a blocking Redis connection for nothing.
    let events: Promise<QueueEvents> | undefined;
    const queueEvents = () =>
      (events ??= (async () => {
        const opened = openQueueEvents(catalog.replies, producer, config.queuePrefix);
        opened.on('error', (error) =>
          logger.warn({ err: error.message }, 'queue events: Redis error'),
        );
        await opened.waitUntilReady();
        return opened;
      })());
    closers.push(
      () => queue.close(),
      async () => (await events)?.close(),
    );
    const dashboard = createDashboard({
      catalog,
      connection: producer,
      queuePrefix: config.queuePrefix,
      db,
      verifyToken,
      xsrfSecret: key.kind === 'secret' ? key.secret : key.pem,
      replayDeadLetter,
      logger,
    });
    closers.push(() => dashboard.close());
    mounts.push([dashboard.path, dashboard.router]);
    app = createIngressApp({
      db,
      blobs,
      queue,
      replyJob: catalog.replies.jobs.reply,
      queueEvents,
      redis: producer,
      queuePrefix: config.queuePrefix,
      verifyToken,
      logger,
      accessLog: config.accessLog,
      corsOrigins: config.corsOrigins,
      limits: config.limits,
      rateLimits: config.rateLimits,
      idempotencyTtlHours: config.idempotencyTtlHours,
      inboundEmail: bridgeSettings(config),
      mounts,
      ...(modes.worker ? { consumers: () => workers?.health() ?? {} } : {}),
      observeRequest: metrics?.observeRequest,
      observeMail: metrics?.observeMail,
    });
  } else {
    app = createHealthApp({
      db,
      redis: producer,
      logger,
      accessLog: config.accessLog,
      mounts,
      ...(modes.worker ? { consumers: () => workers?.health() ?? {} } : {}),
      observeRequest: metrics?.observeRequest,
    });
  }

  const workerConnection = modes.worker
    ? createRedis(config.redisUrl, 'worker', config.redisClusterNodes)
    : undefined;
  if (workerConnection) connections.push(workerConnection);
  const workers = workerConnection
    ? startWorkers({
        config,
        db,
        blobs,
        connection: workerConnection,
        observer: producer,
        logger,
        metrics: metrics?.jobs,
      })
    : undefined;
  if (workers?.mailDir) {
    logger.info(
      { mailDir: workers.mailDir },
      `SMTP_URL is not set: notification email is written as .eml files under ${workers.mailDir}`,
    );
  }
  if (modes.worker && config.mail.usesDevSecret) {
    logger.warn(
      'TICKETFLOW_MAIL_SECRET is not set: notification Message-IDs use the built-in development key; set it in production',
    );
  }

  const server = await listenHttp(app, config.port, '0.0.0.0');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    { port, ingress: modes.ingress, worker: modes.worker },
    `ticketflow listening on http://127.0.0.1:${port}`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forceClose = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    forceClose.unref();
    await Promise.all([
      new Promise((resolve) => server.close(resolve)),
      workers?.close(config.shutdownTimeoutMs),
    ]);
    clearTimeout(forceClose);
    // Closing BullMQ objects waits on Redis; with Redis down that would never end.
    for (const close of closers) await settleWithin(CLOSE_STEP_MS, close());
    for (const connection of connections) connection.disconnect();
    // An abandoned job still holds a pooled connection that destroy() would wait for. Its
    // statement ends when this process exits: rolled back, or committed if PostgreSQL finishes
    // it before noticing; the re-run then finds the reply stored (dedupe key).
    await settleWithin(CLOSE_STEP_MS, db.destroy());
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

/** How long each shutdown step may wait on Redis or PostgreSQL before it is abandoned. */
const CLOSE_STEP_MS = 2000;
