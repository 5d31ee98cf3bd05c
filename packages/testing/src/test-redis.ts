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
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
