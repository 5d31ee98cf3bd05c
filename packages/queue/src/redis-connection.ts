import { Redis } from 'ioredis';

/** Upper bound on one producer command, so no request waits on a half-dead Redis. */
const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

/**
 * Opens a Redis connection for one role. Workers and event listeners wait and retry forever,
 * as BullMQ requires (`maxRetriesPerRequest: null`). Producers (the ingress, the CLI) keep
 * ioredis's offline queue, because BullMQ initialises a queue once and that first command must
 * survive a Redis that is still starting; requests fail fast through `isRedisReady` instead.
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  const redis = new Redis(url, {
    connectionName: `ticketflow-${role}`,
    connectTimeout: 5000,
    ...(role === 'producer'
      ? { maxRetriesPerRequest: 1, commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }
      : { maxRetriesPerRequest: null }),
    // Reconnect quickly at first, then at most every 5 s.
    retryStrategy: (times) => Math.min(100 * 2 ** times, 5000),
  });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash.
  redis.on('error', () => {});
  return redis;
}

/** True while the connection can take commands; the ingress answers 503 at once otherwise. */
export function isRedisReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

/** Resolves once the connection is ready; false after `timeoutMs` (for one-shot commands). */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
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
