import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { readNotificationJob } from '@ticketflow/contract';
import { markDeliveryFailed, type Db } from '@ticketflow/db';
import { SCHEDULE_BACKOFF, type JobCatalog, type RedisClient } from '@ticketflow/queue';
import type { HitFault } from './fault-points.ts';
import {
  RetryLaterError,
  createNotificationProcessor,
  type NotificationProcessorDeps,
  type NotificationResult,
} from './process-notification.ts';
import {
  startQueueWorker,
  type QueueWorker,
  type QueueWorkerOptions,
} from './start-queue-worker.ts';
import { webhookRetryDelayMs } from './webhooks/classify-webhook-attempt.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface NotificationWorkerOptions extends NotificationProcessorDeps {
  db: Db;
  catalog: JobCatalog;
  connection: RedisClient;
  prefix: string;
  concurrency: number;
  /** Delays between webhook attempts (ms). */
  webhookScheduleMs: readonly number[];
  logger: Logger;
  hitFault: HitFault;
  lockDurationMs: number;
  stalledIntervalMs: number;
  watchdog?: QueueWorkerOptions['watchdog'];
  metrics?: WorkerMetrics;
}

/**
 * Delivers notifications: emails with exponential backoff, webhooks on the configured schedule
 * (at least a 429's Retry-After). A final failure marks the outbox row failed beside its dead
 * letter, so `dlq replay` knows what to send again.
 */
export function startNotificationWorker(options: NotificationWorkerOptions): QueueWorker {
  const started = startQueueWorker(
    options.catalog.notifications,
    createNotificationProcessor(options),
    {
      ...options,
      backoffStrategy: (attemptsMade: number, type?: string, error?: Error) =>
        type === SCHEDULE_BACKOFF
          ? webhookRetryDelayMs(
              options.webhookScheduleMs,
              attemptsMade,
              error instanceof RetryLaterError ? error.retryAfterMs : undefined,
            )
          : 0,
      onFinalFailure: async (job: Job, _reason, error) => {
        const data = readNotificationJob(job.data);
        if (data) await markDeliveryFailed(options.db, data.outboxId, error.message);
      },
    },
  );
  // One line per delivery: where the mail went (an .eml path in development) or the HTTP status.
  started.worker.on('completed', (job, result: NotificationResult) => {
    if (result.outcome === 'delivered') {
      // The job name is the channel (EMAIL_JOB, WEBHOOK_JOB).
      options.metrics?.notificationDelivered(job.name);
      options.logger.info(
        {
          queue: job.queueName,
          job: job.name,
          outboxId: result.outboxId,
          detail: result.detail,
          requestId: result.requestId,
        },
        `notification delivered: ${job.name} (${result.detail})`,
      );
    }
  });
  return started;
}
