import { allOk, batchCalls } from '@ticketflow/batch';
import { replyJobId, REPLY_JOB, type ReplyJob } from '@ticketflow/contract';
import {
  jobOptions,
  type JobDefinition,
  type RedisClient,
  type ReplyQueue,
} from '@ticketflow/queue';
import { callRedis } from './call-redis.ts';

/**
 * Hands validated jobs to BullMQ. Each call resolves only once Redis holds its job: "accepted
 * means durable" (ARCHITECTURE.md guarantee 1). Concurrent requests share one `addBulk` round
 * trip. The job id only saves work on a repeated add; the dedupe key in PostgreSQL is what
 * makes the reply exactly-once.
 */
export function createReplyEnqueuer(
  queue: ReplyQueue,
  replyJob: JobDefinition,
  redis: RedisClient,
): (job: ReplyJob) => Promise<void> {
  const addMany = batchCalls(
    async (jobs: ReplyJob[]) => {
      await queue.addBulk(
        jobs.map((job) => ({
          name: REPLY_JOB,
          data: job,
          opts: jobOptions(replyJob, replyJobId(job.replyid)),
        })),
      );
      return allOk(jobs.map(() => undefined));
    },
    { maxBatch: 100, maxInFlight: 4 },
  );
  return (job) => callRedis(redis, () => addMany(job));
}
