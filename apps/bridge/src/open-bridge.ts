import type { Logger } from 'pino';
import type { Config } from '@ticketflow/config';
import { enqueueReply } from '@ticketflow/contract';
import { createDb, createPgBlobStore, type Db } from '@ticketflow/db';
import {
  createRedis,
  isRedisReady,
  jobCatalog,
  openQueue,
  settleWithin,
  waitForRedis,
  type RedisClient,
  type ReplyQueue,
} from '@ticketflow/queue';
import { bridgeSettings, type BridgeSettings } from './bridge-settings.ts';
import { createMailIngest, type MailIngest, type MailIngestDeps } from './ingest-mail.ts';
import type { ObserveMail } from './mail-outcome.ts';

/** The bridge's pipeline over its own connections, as `ticketflow bridge` runs it. */
export interface Bridge {
  ingest: MailIngest;
  settings: BridgeSettings;
  /** Whether Redis answered within the start-up wait (until it does, messages are deferred). */
  redisReady: boolean;
  /** The bridge's own connections, for its readiness check. */
  db: Db;
  redis: RedisClient;
  close(): Promise<void>;
}

/** How long start-up waits for Redis before answering "retry later" instead. */
const REDIS_WAIT_MS = 5000;
/** How long each close step may wait on an unreachable Redis or PostgreSQL. */
const CLOSE_STEP_MS = 2000;

/**
 * Opens what the bridge needs with the same configuration as `serve`: a PostgreSQL pool (ticket
 * lookups, the blob store, the record of each message) and a producer connection to the reply
 * queue, whose jobs carry the catalog's options.
 */
export async function openBridge(
  config: Config,
  logger: Logger,
  options: {
    observe?: ObserveMail;
    /** Makes the per-ticket limit on the bridge's own Redis connection (see MailIngestDeps). */
    ticketLimit?: (redis: RedisClient) => NonNullable<MailIngestDeps['limitTicket']>;
  } = {},
): Promise<Bridge> {
  const db = createDb(config.databaseUrl, config.dbPoolMax);
  const redis = createRedis(config.redisUrl, 'producer', config.redisClusterNodes);
  const catalog = jobCatalog(config);
  const queue = openQueue<ReplyQueue>(catalog.replies, redis, config.queuePrefix);
  queue.on('error', (error) => logger.warn({ err: error.message }, 'reply queue: Redis error'));
  const settings = bridgeSettings(config);
  const ingest = createMailIngest({
    db,
    blobs: createPgBlobStore(db),
    settings,
    logger,
    observe: options.observe,
    limitTicket: options.ticketLimit?.(redis),
    enqueue: async (job) => {
      // The producer connection would hold the command while Redis is away; fail at once so
      // the MTA keeps the message and tries again.
      if (!isRedisReady(redis)) throw new Error('Redis is unreachable');
      await enqueueReply(queue, job, catalog.replies.jobs.reply.options);
    },
  });
  return {
    ingest,
    settings,
    redisReady: await waitForRedis(redis, REDIS_WAIT_MS),
    db,
    redis,
    async close() {
      await settleWithin(CLOSE_STEP_MS, queue.close());
      redis.disconnect();
      await settleWithin(CLOSE_STEP_MS, db.destroy());
    },
  };
}
