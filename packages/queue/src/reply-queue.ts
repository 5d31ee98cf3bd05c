import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { REPLY_QUEUE, type ReplyJob } from '@ticketflow/contract';

/** Retry and retention settings for reply jobs. */
export interface ReplyJobPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * Job options every reply producer uses: retries with exponential backoff and jitter, completed
 * jobs removed (a small recent window stays for the dashboard), failed jobs kept 30 days.
 */
export function replyJobOptions(policy: ReplyJobPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: 0.5 },
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/** Cap on the queue's events stream, so Redis memory stays bounded (ARCHITECTURE.md guarantee 6). */
const EVENTS_MAX_LEN = 10_000;

export type ReplyQueue = Queue<ReplyJob, unknown, 'reply'>;

export function createReplyQueue(
  connection: Redis,
  prefix: string,
  policy: ReplyJobPolicy,
): ReplyQueue {
  return new Queue<ReplyJob, unknown, 'reply'>(REPLY_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: replyJobOptions(policy),
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
}

export function createReplyQueueEvents(connection: Redis, prefix: string): QueueEvents {
  return new QueueEvents(REPLY_QUEUE, { connection, prefix });
}
