import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
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
 * On a cluster, SCAN runs on each master, which sees only its own slots, and each key is
 * unlinked alone (one UNLINK of keys in several slots is refused). Free of vitest
 * (`@ticketflow/testing/redis`), so the bench uses it too.
 */
export async function deleteKeys(redis: Redis | Cluster, pattern: string): Promise<void> {
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        const unlinks = server.pipeline();
        for (const key of keys) unlinks.unlink(key);
        await unlinks.exec();
      }
    } while (cursor !== '0');
  }
}
