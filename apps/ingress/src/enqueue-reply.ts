import { randomBytes } from 'node:crypto';
import { allOk, batchCalls } from '@ticketflow/batch';
import { replyJobId, REPLY_JOB, type ReplyJob } from '@ticketflow/contract';
import type { Redis } from 'ioredis';
import { isRedisReady, type ReplyQueue } from '@ticketflow/queue';
import { serviceUnavailable } from './error-response.ts';

/**
 * Hands validated jobs to BullMQ. Each call resolves only once Redis holds its job: "accepted
 * means durable" (ARCHITECTURE.md guarantee 1). Concurrent requests share one `addBulk` round
 * trip. The job id only saves work on a repeated add; the dedupe key in PostgreSQL is what
 * makes the reply exactly-once.
 */
export function createReplyEnqueuer(
  queue: ReplyQueue,
  redis: Redis,
): (job: ReplyJob) => Promise<void> {
  const addMany = batchCalls(
    async (jobs: ReplyJob[]) => {
      await queue.addBulk(
        jobs.map((job) => ({
          name: REPLY_JOB,
          data: job,
          opts: { jobId: replyJobId(job.replyid) },
        })),
      );
      return allOk(jobs.map(() => undefined));
    },
    { maxBatch: 100, maxInFlight: 4 },
  );
  return async (job) => {
    if (!isRedisReady(redis)) throw serviceUnavailable('Redis is unreachable');
    try {
      await addMany(job);
    } catch {
      throw serviceUnavailable('Redis is unreachable');
    }
  };
}

/**
 * A UUIDv7: time-ordered, so reply ids sort by arrival and index well (RFC 9562 §5.7).
 */
export function newReplyId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
