import { DelayedError, UnrecoverableError, Worker, type BackoffStrategy, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { DeadReason } from '@ticketflow/contract';
import { recordDeadLetter, type Db } from '@ticketflow/db';
import {
  FinalJobError,
  openQueue,
  settleWithin,
  type QueueDefinition,
  type RedisClient,
} from '@ticketflow/queue';
import { watchConsumption } from './consumption-watchdog.ts';
import type { HitFault } from './fault-points.ts';
import { countJobOutcomes, type WorkerMetrics } from './worker-metrics.ts';

export interface QueueWorkerOptions {
  /** A connection with `maxRetriesPerRequest: null`; BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  db: Db;
  logger: Logger;
  hitFault: HitFault;
  /** BullMQ's custom backoff, for jobs whose backoff type is not built in. */
  backoffStrategy?: BackoffStrategy;
  /**
   * Consumption checks (consumption-watchdog.ts): how often, over how long a window (ms), and
   * the connection they read the queue through. Not `connection`: a check that shares the
   * worker's connection goes blind exactly when that connection is wedged.
   */
  watchdog?: { everyMs: number; windowMs: number; connection: RedisClient };
  /**
   * Runs on a job's final failure before its dead letter is written (a notification marks its
   * outbox row failed, a 410 disables the endpoint).
   */
  onFinalFailure?: (job: Job, reason: DeadReason, error: Error) => Promise<void>;
  /** Counts outcomes, durations and dead letters (metrics on). */
  metrics?: WorkerMetrics;
}

export interface QueueWorker {
  worker: Worker;
  /** `ok`, or why this queue's worker is not consuming (for /readyz). */
  health(): string;
  /**
   * Stops fetching and waits for active jobs up to `timeoutMs`, then abandons the rest: they
   * stall and another worker re-runs them, and the dedupe and outbox keys keep that safe.
   */
  close(timeoutMs: number): Promise<'drained' | 'abandoned'>;
}

/**
 * Every queue's worker starts here, so each gets the same job-name check, logging, bounded
 * close and durable final failure. The dead letter is written inside the processor, before the
 * last throw: once BullMQ marks the job failed its row already exists, so a crash at that moment
 * loses nothing (ARCHITECTURE.md guarantee 5). A crash before the write leaves the job to stall
 * and run again, and the maintenance reconciler covers jobs that fail without the processor
 * (the stalled-job limit).
 */
export function startQueueWorker(
  definition: QueueDefinition,
  processor: (job: Job, token?: string) => Promise<unknown>,
  options: QueueWorkerOptions,
): QueueWorker {
  const { db, logger } = options;
  const log = logger.child({ queue: definition.name });
  /** What this process is doing with the queue, for the consumption watchdog. */
  const counts = { activeHere: 0, finishedHere: 0 };
  const worker = new Worker(
    definition.name,
    async (job: Job, token?: string) => {
      counts.activeHere += 1;
      try {
        if (!Object.hasOwn(definition.jobs, job.name)) {
          throw new FinalJobError(
            'invalid_job',
            `unknown job name ${JSON.stringify(job.name)} on queue ${definition.name}`,
          );
        }
        return await processor(job, token);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        if (failure instanceof DelayedError || failure.name === 'DelayedError') throw failure;
        const reason = finalReason(job, failure);
        if (!reason) {
          log.warn(
            {
              jobId: job.id,
              requestId: requestIdOf(job),
              attempt: job.attemptsMade + 1,
              err: failure.message,
            },
            'job failed; will retry',
          );
          throw failure;
        }
        log.error(
          {
            jobId: job.id,
            requestId: requestIdOf(job),
            attempts: job.attemptsMade + 1,
            reason,
            err: failure.message,
          },
          'job dead-lettered',
        );
        try {
          await options.onFinalFailure?.(job, reason, failure);
          await recordDeadLetter(db, {
            queue: definition.name,
            jobId: job.id ?? 'unknown',
            name: job.name,
            payload: job.data,
            reason,
            error: failure.message,
            attempts: job.attemptsMade + 1,
          });
          options.metrics?.deadLettered(definition.name);
        } catch (e) {
          // The job stays in BullMQ's failed set; the reconciler writes the row later.
          log.error({ err: e, jobId: job.id }, 'could not record the dead letter now');
        }
        options.hitFault('after-dead-letter');
        throw failure;
      } finally {
        counts.activeHere -= 1;
        counts.finishedHere += 1;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
      maxStalledCount: 1,
      ...(options.backoffStrategy
        ? { settings: { backoffStrategy: options.backoffStrategy } }
        : {}),
    },
  );
  worker.on('error', (error) => log.error({ err: error }, 'worker error'));
  const watched = options.watchdog && {
    ...options.watchdog,
    queue: openQueue(definition, options.watchdog.connection, options.prefix),
  };
  const watchdog =
    watched && watchConsumption({ ...watched, worker, counts: () => counts, logger: log });
  if (options.metrics) countJobOutcomes(worker, options.metrics);
  return {
    worker,
    health: () => watchdog?.state() ?? 'ok',
    async close(timeoutMs) {
      watchdog?.stop();
      if (watched) await settleWithin(1000, watched.queue.close());
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
      // another worker re-runs them.
      log.warn({ timeoutMs }, 'active jobs did not finish in time; abandoning them to be retried');
      return 'abandoned';
    },
  };
}

/** The X-Request-Id a reply job carries (contract v1, optional); other jobs have none. */
function requestIdOf(job: Job): string | undefined {
  const id = (job.data as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** The dead reason when this failure is the job's last; undefined when BullMQ will retry it. */
function finalReason(job: Job, error: Error): DeadReason | undefined {
  if (error instanceof FinalJobError) return error.reason;
  if (error instanceof UnrecoverableError || error.name === 'UnrecoverableError') {
    return 'invalid_job';
  }
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1) ? 'retries_exhausted' : undefined;
}
