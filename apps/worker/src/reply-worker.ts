import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { REPLY_QUEUE } from '@ticketflow/contract';
import { settleWithin } from '@ticketflow/queue';
import { recordDeadLetter } from '@ticketflow/db';
import { createReplyProcessor, type ReplyProcessorDeps } from './process-reply.ts';

export interface ReplyWorkerOptions extends ReplyProcessorDeps {
  /** A connection with `maxRetriesPerRequest: null`; BullMQ duplicates it for blocking reads. */
  connection: Redis;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  logger: Logger;
}

export interface ReplyWorker {
  worker: Worker;
  /**
   * Stops fetching and waits for active jobs up to `timeoutMs`, then abandons the rest: they
   * stall and another worker re-runs them, and the dedupe key keeps that safe.
   */
  close(timeoutMs: number): Promise<'drained' | 'abandoned'>;
}

export function startReplyWorker(options: ReplyWorkerOptions): ReplyWorker {
  const { db, logger } = options;
  const worker = new Worker(REPLY_QUEUE, createReplyProcessor(options), {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 1,
  });
  worker.on('error', (error) => logger.error({ err: error }, 'reply worker error'));
  worker.on('failed', (job, error) => {
    if (!job) return;
    if (!isFinalFailure(job, error)) {
      logger.warn(
        { jobId: job.id, attempt: job.attemptsMade, err: error.message },
        'reply job failed; will retry',
      );
      return;
    }
    logger.error(
      { jobId: job.id, attempts: job.attemptsMade, err: error.message },
      'reply job dead-lettered',
    );
    recordDeadLetter(db, {
      queue: REPLY_QUEUE,
      jobId: job.id ?? 'unknown',
      name: job.name,
      payload: job.data,
      error: error.message,
      attempts: job.attemptsMade,
    }).catch((e: unknown) => {
      // The job stays in BullMQ's failed set (kept 30 days) even if this row cannot be written.
      logger.error({ err: e, jobId: job.id }, 'could not record dead letter');
    });
  });
  return {
    worker,
    async close(timeoutMs) {
      let drained = false;
      await settleWithin(
        timeoutMs,
        worker.close().then(() => {
          drained = true;
        }),
      );
      if (drained) return 'drained';
      // Not worker.close(true): once close() has begun, BullMQ returns that same pending promise,
      // which waits for the very jobs being abandoned. Stop waiting; their locks lapse and
      // another worker re-runs them (the dedupe key keeps that safe).
      logger.warn(
        { timeoutMs },
        'active reply jobs did not finish in time; abandoning them to be retried',
      );
      return 'abandoned';
    },
  };
}

function isFinalFailure(job: Job, error: Error): boolean {
  return error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}
