import { randomUUID } from 'node:crypto';
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
 * A UUIDv7: time-ordered, so reply ids sort by arrival and index well (RFC 9562 §5.7). The
 * random bits come from randomUUID, which draws from a cached entropy pool: a randomBytes call
 * per request cost 2 % of the ingress.
 */
export function newReplyId(now = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V already the variant
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
