import { Counter, Histogram, type Registry } from 'prom-client';
import type { QueueDefinition } from '@ticketflow/queue';

/** How a webhook attempt ended, as the notification worker classifies it. */
export type WebhookAttemptOutcome = 'delivered' | 'retry' | 'final' | 'gone';

/** What the workers record: every method is a counter step or a histogram observation. */
export interface JobMetrics {
  /** One attempt of a job ended; `seconds` from BullMQ's processedOn to finishedOn. */
  jobFinished(
    queue: string,
    name: string,
    outcome: 'completed' | 'failed',
    seconds: number | undefined,
  ): void;
  /** A reply job stored its reply (`inserted`) or found it stored already (`duplicate`). */
  replyStored(outcome: 'inserted' | 'duplicate'): void;
  notificationDelivered(channel: string): void;
  webhookAttempt(outcome: WebhookAttemptOutcome): void;
  deadLettered(queue: string): void;
}

/** Seconds: a reply takes milliseconds, a webhook may take its whole 15 s timeout or more. */
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const WEBHOOK_OUTCOMES: readonly WebhookAttemptOutcome[] = ['delivered', 'retry', 'final', 'gone'];
const CHANNELS = ['email', 'webhook'] as const;

/**
 * The worker-side series. Every label value known in advance starts at zero, so `rate()` and
 * `increase()` see a series from the first scrape rather than from its first event.
 */
export function createJobMetrics(
  registry: Registry,
  queues: readonly QueueDefinition[],
): JobMetrics {
  const registers = [registry];
  const completed = new Counter({
    name: 'ticketflow_jobs_completed_total',
    help: 'Job attempts that completed, by queue and job name',
    labelNames: ['queue', 'name'],
    registers,
  });
  const failed = new Counter({
    name: 'ticketflow_jobs_failed_total',
    help: 'Job attempts that failed (retried or final), by queue and job name',
    labelNames: ['queue', 'name'],
    registers,
  });
  const duration = new Histogram({
    name: 'ticketflow_job_duration_seconds',
    help: 'Job attempt duration (BullMQ processedOn to finishedOn), by queue and job name',
    labelNames: ['queue', 'name', 'outcome'],
    buckets: JOB_BUCKETS,
    registers,
  });
  const persisted = new Counter({
    name: 'ticketflow_replies_persisted_total',
    help: 'Replies stored in PostgreSQL by a reply job',
    registers,
  });
  const duplicates = new Counter({
    name: 'ticketflow_reply_duplicates_suppressed_total',
    help: 'Reply jobs that found their reply stored already (same dedupe key) and stored nothing',
    registers,
  });
  const delivered = new Counter({
    name: 'ticketflow_notifications_delivered_total',
    help: 'Notifications delivered, by channel (email, webhook)',
    labelNames: ['channel'],
    registers,
  });
  const attempts = new Counter({
    name: 'ticketflow_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retry, final, gone)',
    labelNames: ['outcome'],
    registers,
  });
  const dead = new Counter({
    name: 'ticketflow_dead_letters_total',
    help: 'Jobs dead-lettered (failed for good and recorded in dead_letters), by queue',
    labelNames: ['queue'],
    registers,
  });
  for (const queue of queues) {
    dead.inc({ queue: queue.name }, 0);
    for (const name of Object.keys(queue.jobs)) {
      completed.inc({ queue: queue.name, name }, 0);
      failed.inc({ queue: queue.name, name }, 0);
    }
  }
  for (const channel of CHANNELS) delivered.inc({ channel }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) attempts.inc({ outcome }, 0);

  return {
    jobFinished(queue, name, outcome, seconds) {
      (outcome === 'completed' ? completed : failed).inc({ queue, name });
      if (seconds !== undefined) duration.observe({ queue, name, outcome }, seconds);
    },
    replyStored(outcome) {
      (outcome === 'inserted' ? persisted : duplicates).inc();
    },
    notificationDelivered(channel) {
      delivered.inc({ channel });
    },
    webhookAttempt(outcome) {
      attempts.inc({ outcome });
    },
    deadLettered(queue) {
      dead.inc({ queue });
    },
  };
}
