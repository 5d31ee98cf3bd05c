import type { Config } from '@ticketflow/config';
import { createRedis, waitForRedis, type RedisClient } from '@ticketflow/queue';
import { CliFailure } from '../runtime.ts';
import { redisLocation } from './redis-location.ts';

/**
 * How long a one-shot command waits for Redis. Without a bound, ioredis would reconnect
 * forever and the command would hang on a Redis that is down.
 */
const REDIS_WAIT_MS = 5000;

/** Runs `work` on a producer connection once Redis answers; exit 1 if it does not in time. */
export async function withRedis<T>(
  config: Config,
  work: (redis: RedisClient) => Promise<T>,
): Promise<T> {
  const redis = createRedis(config.redisUrl, 'producer', config.redisClusterNodes);
  try {
    if (!(await waitForRedis(redis, REDIS_WAIT_MS))) {
      throw new CliFailure(`Redis is unreachable at ${redisLocation(config)}`);
    }
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
