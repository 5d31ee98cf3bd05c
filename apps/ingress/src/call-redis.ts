import { ApiError } from '@ticketflow/contract';
import { isRedisReady, type RedisClient } from '@ticketflow/queue';
import { serviceUnavailable } from './error-response.ts';

/**
 * A request's Redis call: 503 at once while the connection is down (the producer connection
 * would otherwise hold the command in its offline queue until it times out), and 503 when the
 * call itself fails. An answer the call decided on (a 429 from the rate limiter) passes through.
 */
export async function callRedis<T>(redis: RedisClient, call: () => Promise<T>): Promise<T> {
  if (!isRedisReady(redis)) throw serviceUnavailable('Redis is unreachable');
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw serviceUnavailable('Redis is unreachable');
  }
}
