import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import { Cluster } from 'ioredis';
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

/**
 * A queue's event stream. BullMQ reads it with a blocking XREAD on a copy of whatever client it
 * is given, so it gets a copy of `connection` that never connects itself (`lazyConnect`) and
 * holds what a blocking reader needs (no per-command retry limit or timeout): one connection,
 * BullMQ's own, opened and closed by the QueueEvents.
 */
export function openQueueEvents(
  definition: QueueDefinition,
  connection: RedisClient,
  prefix: string,
): QueueEvents {
  const blocking = {
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    // What CLIENT LIST shows until BullMQ names it: not the producer it was copied from.
    connectionName: 'ticketflow-events',
  };
  const template =
    connection instanceof Cluster
      ? connection.duplicate(undefined, {
          lazyConnect: true,
          redisOptions: { ...connection.options.redisOptions, ...blocking },
        })
      : connection.duplicate({ ...blocking, lazyConnect: true });
  return new QueueEvents(definition.name, { connection: template, prefix });
}

/** The options to add `job` with, under an explicit id (ids only save work; see guarantee 2). */
export function jobOptions(job: JobDefinition, jobId: string): JobsOptions {
  return { ...job.options, jobId };
}
