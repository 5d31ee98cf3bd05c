import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './database-urls.ts';

/** A BullMQ prefix no other test file uses. */
export function uniquePrefix(): string {
  return `tf-test-${randomUUID()}`;
}

/** Deletes every key under a test prefix (the queues' own obliterate needs each queue open). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl());
  try {
    await deleteKeys(redis, `${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}

/**
 * SCAN + UNLINK of every key matching `pattern`: never KEYS, never FLUSHDB on a shared Redis.
 * Free of vitest (`@ticketflow/testing/redis`), so the bench uses it too.
 */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
