import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { ReplyJob } from '@ticketflow/contract';
import type { JobDefinition, QueueDefinition } from './job-catalog.ts';
import type { RedisClient } from './redis-connection.ts';

/** Cap on each queue's events stream, so Redis memory stays bounded (ARCHITECTURE.md guarantee 6). */
const EVENTS_MAX_LEN = 10_000;

export type ReplyQueue = Queue<ReplyJob, unknown, 'reply'>;

/**
 * The one place a BullMQ Queue is made. No default job options: a queue may carry jobs with
 * different policies, so producers pass {@link jobOptions} of the job they add.
 */
export function openQueue<Q extends Queue = Queue>(
  definition: QueueDefinition,
  connection: RedisClient,
  prefix: string,
): Q {
  return new Queue(definition.name, {
    connection,
    prefix,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  }) as Q;
}

export function openQueueEvents(
  definition: QueueDefinition,
  connection: RedisClient,
  prefix: string,
): QueueEvents {
  return new QueueEvents(definition.name, { connection, prefix });
}

/** The options to add `job` with, under an explicit id (ids only save work; see guarantee 2). */
export function jobOptions(job: JobDefinition, jobId: string): JobsOptions {
  return { ...job.options, jobId };
}
