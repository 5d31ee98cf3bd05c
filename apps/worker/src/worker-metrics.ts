import type { Job, Worker } from 'bullmq';
import type { InsertOutcome } from '@ticketflow/db';
import type { WebhookVerdict } from './webhooks/classify-webhook-attempt.ts';

/**
 * What the workers record, when `serve` runs with metrics on. @ticketflow/metrics implements it;
 * the workers see only these calls, never prom-client.
 */
export interface WorkerMetrics {
  /** One attempt of a job ended; `seconds` runs from BullMQ's processedOn to finishedOn. */
  jobFinished(
    queue: string,
    name: string,
    outcome: 'completed' | 'failed',
    seconds: number | undefined,
  ): void;
  replyStored(outcome: InsertOutcome): void;
  notificationDelivered(channel: string): void;
  webhookAttempt(outcome: WebhookVerdict['kind']): void;
  deadLettered(queue: string): void;
}

/**
 * Counts every attempt a worker ends, from BullMQ's own events: `failed` fires for each failed
 * attempt, retried or final (a DelayedError, which only postpones, fires nothing).
 */
export function countJobOutcomes(worker: Worker, metrics: WorkerMetrics): void {
  worker.on('completed', (job: Job) =>
    metrics.jobFinished(job.queueName, job.name, 'completed', attemptSeconds(job)),
  );
  worker.on('failed', (job: Job | undefined) => {
    // Undefined for a job the stalled-job check failed without fetching it.
    if (job) metrics.jobFinished(job.queueName, job.name, 'failed', attemptSeconds(job));
  });
}

/** A retried attempt has no finishedOn: it ended now, as the event fires. */
function attemptSeconds(job: Job): number | undefined {
  return job.processedOn ? ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000 : undefined;
}
