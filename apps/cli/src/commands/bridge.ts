import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import {
  EXIT_RETRY,
  ingestStream,
  MAIL_OUTCOMES,
  openBridge,
  startMailListener,
  type Bridge,
  type MailListener,
} from '@ticketflow/bridge';
import type { Config } from '@ticketflow/config';
import type { RedisClient } from '@ticketflow/queue';
import {
  createHealthApp,
  createMetricsEndpoint,
  createRateLimiter,
  mailTicketLimit,
  type IngressDeps,
} from '@ticketflow/ingress';
import { createMetrics, type Metrics } from '@ticketflow/metrics';
import { createLogger, loadConfig, loadTokenVerifier } from '../runtime.ts';
import { listenHttp } from './listen-http.ts';
import { UsageError } from './usage-error.ts';

export interface BridgeOptions {
  smtp?: string;
  lmtp?: string;
  http?: string;
  host: string;
}

/** How long a shutdown waits for deliveries in progress before closing their connections. */
const CLOSE_LISTENERS_MS = 5000;

/**
 * `ticketflow bridge [--smtp PORT] [--lmtp PORT] [--http PORT] [--host 127.0.0.1]`: the email
 * bridge as a long-running listener that an MTA delivers to, with the same configuration as
 * `serve`. `--http` serves `/healthz`, `/readyz` and (an ops token) `/metrics` with the count
 * of every message by outcome. SIGTERM or SIGINT stops taking mail, lets deliveries in
 * progress finish, and exits.
 */
export async function bridge(config: Config, options: BridgeOptions): Promise<void> {
  const ports = {
    smtp: options.smtp === undefined ? undefined : parsePort(options.smtp, '--smtp'),
    lmtp: options.lmtp === undefined ? undefined : parsePort(options.lmtp, '--lmtp'),
    http: options.http === undefined ? undefined : parsePort(options.http, '--http'),
  };
  if (ports.smtp === undefined && ports.lmtp === undefined) {
    throw new UsageError('give --smtp PORT, --lmtp PORT or both');
  }
  const logger = createLogger(config);
  if (config.mail.usesDevSecret) {
    logger.warn(
      'TICKETFLOW_MAIL_SECRET is not set: replies are matched with the built-in development key; set the one the workers use',
    );
  }
  // Counted only where someone can read the counts: the HTTP listener's /metrics.
  const metrics =
    ports.http !== undefined && config.metrics
      ? createMetrics({ mailOutcomes: MAIL_OUTCOMES })
      : undefined;
  const opened = await openBridge(config, logger, {
    observe: metrics?.observeMail,
    ticketLimit: ticketLimitOf(config),
  });
  if (!opened.redisReady) logger.warn('Redis is unreachable: posting waits for it (451 meanwhile)');
  const listeners: MailListener[] = [];
  for (const protocol of ['smtp', 'lmtp'] as const) {
    const port = ports[protocol];
    if (port === undefined) continue;
    const listener = await startMailListener({
      protocol,
      port,
      host: options.host,
      maxMessageBytes: opened.settings.maxMessageBytes,
      mailbox: opened.settings.mailbox,
      ingest: opened.ingest,
      logger,
      observe: metrics?.observeMail,
    });
    listeners.push(listener);
    logger.info(
      { protocol, host: options.host, port: listener.port, mailbox: opened.settings.mailbox },
      `email bridge taking ${protocol.toUpperCase()} on ${options.host}:${listener.port}`,
    );
  }
  const http =
    ports.http === undefined
      ? undefined
      : await serveHealth(opened, metrics, {
          config,
          logger,
          port: ports.http,
          host: options.host,
        });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'email bridge shutting down');
    http?.closeAllConnections();
    http?.close();
    await Promise.race([
      Promise.all(listeners.map((l) => l.close())),
      new Promise((resolve) => setTimeout(resolve, CLOSE_LISTENERS_MS).unref()),
    ]);
    await opened.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

/**
 * `ticketflow bridge ingest [--mailbox NAME] < message.eml`: one message from stdin, for a
 * `.forward` pipe or an MTA's pipe transport. Exits with a sysexits code (0 posted or
 * dropped, 67 refused, 75 retry later). Anything unforeseen, a bad configuration included, is
 * 75: the MTA keeps the message until it can be posted, rather than bouncing it.
 */
export async function bridgeIngest(options: { mailbox?: string }): Promise<never> {
  let result: { code: number; line: string };
  try {
    const config = loadConfig(
      options.mailbox === undefined
        ? process.env
        : { ...process.env, TICKETFLOW_BRIDGE_MAILBOX: options.mailbox },
    );
    // The result line says what happened; logs only for errors, on stderr beside it.
    const logger = pino({ level: 'error' }, pino.destination({ dest: 2, sync: true }));
    const opened = await openBridge(config, logger, { ticketLimit: ticketLimitOf(config) });
    try {
      result = await ingestStream(opened.ingest, process.stdin, {
        mailbox: opened.settings.mailbox,
        maxBytes: opened.settings.maxMessageBytes,
      });
    } finally {
      await opened.close();
    }
  } catch (error) {
    result = { code: EXIT_RETRY, line: `deferred: ${(error as Error).message}` };
  }
  (result.code === 0 ? process.stdout : process.stderr).write(`ticketflow: ${result.line}\n`);
  process.exit(result.code);
}

/**
 * `--http`: `/healthz`, `/readyz` (the bridge's PostgreSQL and Redis) and, when metrics are on,
 * `/metrics` behind an ops token, as `serve --worker` answers them.
 */
async function serveHealth(
  opened: Bridge,
  metrics: Metrics | undefined,
  at: { config: Config; logger: Logger; port: number; host: string },
): Promise<Server> {
  const { config, logger } = at;
  const mounts: NonNullable<IngressDeps['mounts']> = metrics
    ? [
        [
          '/metrics',
          createMetricsEndpoint(loadTokenVerifier(config, logger).verifyToken, metrics.scrape),
        ],
      ]
    : [];
  const app = createHealthApp({
    db: opened.db,
    redis: opened.redis,
    logger,
    accessLog: config.accessLog,
    mounts,
    observeRequest: metrics?.observeRequest,
  });
  const server = await listenHttp(app, at.port, at.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : at.port;
  logger.info({ host: at.host, port }, `email bridge health on http://${at.host}:${port}`);
  return server;
}

/** The per-ticket limit the ingress applies, counted in the same Redis windows. */
function ticketLimitOf(config: Config) {
  return (redis: RedisClient) =>
    mailTicketLimit(
      createRateLimiter(redis, config.queuePrefix),
      config.rateLimits.perTicketPerMinute,
    );
}

function parsePort(text: string, option: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`${option} must be a port number from 0 to 65535, got "${text}"`);
  }
  return port;
}
