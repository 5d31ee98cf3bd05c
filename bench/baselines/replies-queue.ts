import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig } from '@ticketflow/config';
import { jobCatalog } from '@ticketflow/queue';
import { env } from './env.ts';

/**
 * The `replies` queue as a hand-written producer opens it: its own connection, the run's
 * prefix, and the product's retry and retention options with the attempts and backoff the
 * bench gives it, so both sides add the same jobs.
 */
export function openRepliesQueue(): Queue {
  return new Queue('replies', {
    connection: new Redis(env('REDIS_URL')),
    prefix: env('TICKETFLOW_QUEUE_PREFIX'),
    defaultJobOptions: jobCatalog(
      parseConfig({
        TICKETFLOW_REPLY_ATTEMPTS: env('TICKETFLOW_REPLY_ATTEMPTS'),
        TICKETFLOW_REPLY_BACKOFF_MS: env('TICKETFLOW_REPLY_BACKOFF_MS'),
      }),
    ).replies.jobs.reply.options,
  });
}
