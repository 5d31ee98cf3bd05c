import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A connection to a single Redis or to a Redis Cluster: BullMQ takes either. */
export type RedisClient = Redis | Cluster;

/** A seed node of a Redis Cluster (`REDIS_CLUSTER_NODES`). */
interface RedisNode {
  host: string;
  port: number;
}

type RedisRole = 'producer' | 'worker';

/** Upper bound on one producer command, so no request waits on a half-dead Redis. */
const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

/**
 * Opens a Redis connection for one role: to the Redis of `url`, or, when `clusterNodes` are
 * given, a Cluster client seeded by them that takes only the user, password and TLS of `url`.
 * Workers and event listeners wait and retry forever, as BullMQ requires
 * (`maxRetriesPerRequest: null`). Producers (the ingress, the CLI) keep ioredis's offline
 * queue, because BullMQ initialises a queue once and that first command must survive a Redis
 * that is still starting; requests fail fast through `isRedisReady` instead.
 */
export function createRedis(url: string, role: RedisRole): Redis;
export function createRedis(
  url: string,
  role: RedisRole,
  clusterNodes: readonly RedisNode[],
): RedisClient;
export function createRedis(
  url: string,
  role: RedisRole,
  clusterNodes: readonly RedisNode[] = [],
): RedisClient {
  const redis =
    clusterNodes.length === 0
      ? new Redis(url, { ...connectionOptions(role), retryStrategy: reconnectDelay })
      : new Cluster([...clusterNodes], {
          // Ready only once CLUSTER INFO says the cluster serves every slot.
          enableReadyCheck: true,
          clusterRetryStrategy: reconnectDelay,
          redisOptions: { ...clusterCredentials(url), ...connectionOptions(role) },
        });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on('error', () => {});
  return redis;
}

/** Reconnect quickly at first, then at most every 5 s. */
const reconnectDelay = (times: number) => Math.min(100 * 2 ** times, 5000);

function connectionOptions(role: RedisRole): RedisOptions {
  return {
    connectionName: `ticketflow-${role}`,
    connectTimeout: 5000,
    ...(role === 'producer'
      ? { maxRetriesPerRequest: 1, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }
      : { maxRetriesPerRequest: null }),
  };
}

/**
 * What of REDIS_URL a cluster's nodes share: the user, the password and TLS (`rediss://`).
 * Its host and port are not used; the nodes are found from the seeds.
 */
function clusterCredentials(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The servers behind a connection: itself, or each master of a cluster (the slots as last
 * refreshed). For what runs per server rather than per key: INFO, CONFIG GET, SCAN.
 */
export function masterNodes(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** True while the connection can take commands; the ingress answers 503 at once otherwise. */
export function isRedisReady(redis: RedisClient): boolean {
  return redis.status === 'ready';
}

/** Resolves once the connection is ready; false after `timeoutMs` (for one-shot commands). */
export function waitForRedis(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (isRedisReady(redis)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
