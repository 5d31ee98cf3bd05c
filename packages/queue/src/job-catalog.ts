import type { JobsOptions } from 'bullmq';
import {
  EMAIL_JOB,
  NOTIFICATION_QUEUE,
  REPLY_JOB,
  REPLY_QUEUE,
  WEBHOOK_JOB,
} from '@ticketflow/contract';

/** Queue of periodic housekeeping jobs, run by the workers. */
export const MAINTENANCE_QUEUE = 'maintenance';
/** Removes staged attachment blobs no reply references (ARCHITECTURE.md guarantee 3). */
export const SWEEP_BLOBS_JOB = 'sweep-blobs';
/** Enqueues outbox rows whose notification job was never enqueued (a crash after commit). */
export const DISPATCH_OUTBOX_JOB = 'dispatch-outbox';
/** Writes a dead letter for every failed job that has none (a crash before it was written). */
export const RECONCILE_DEAD_LETTERS_JOB = 'reconcile-dead-letters';
/** Deletes old email bridge records and expired idempotency keys, which nothing else removes. */
export const PURGE_RECORDS_JOB = 'purge-records';

/** BullMQ's name for the custom backoff the notification workers compute (webhook schedule). */
export const SCHEDULE_BACKOFF = 'schedule';

/** The settings the catalog takes from configuration, shaped as Config holds them. */
export interface CatalogPolicy {
  /** Reply jobs. */
  worker: { attempts: number; backoffMs: number };
  /** Notification email. */
  mail: { attempts: number; backoffMs: number };
  /** Delays between webhook attempts (ms); one attempt more than entries. */
  webhooks: { scheduleMs: readonly number[] };
}

/** One job name on a queue: its contract version and the options every producer uses. */
export interface JobDefinition {
  name: string;
  /** Payload contract version (`v` in the job data). */
  version: number;
  options: JobsOptions;
}

/** A queue, its jobs and what it is for. */
export interface QueueDefinition {
  name: string;
  description: string;
  jobs: Readonly<Record<string, JobDefinition>>;
}

/** Completed jobs go (a small recent window stays for the dashboard); failed ones stay 30 days. */
const RETENTION: JobsOptions = {
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};
/** Housekeeping runs often and matters only while it runs: keep a few for the dashboard. */
const MAINTENANCE_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { count: 10 },
  removeOnFail: { count: 100 },
};

/**
 * Every queue Ticketflow runs, with its jobs. Queues, workers, the CLI (`queues`, `dlq`) and
 * the dashboard read this one table; nothing else names a queue.
 */
export function jobCatalog(policy: CatalogPolicy) {
  return {
    replies: {
      name: REPLY_QUEUE,
      description: 'reply jobs (public contract v1) from the ingress and email bridges',
      jobs: {
        [REPLY_JOB]: {
          name: REPLY_JOB,
          version: 1,
          options: {
            attempts: policy.worker.attempts,
            backoff: { type: 'exponential', delay: policy.worker.backoffMs, jitter: 0.5 },
            ...RETENTION,
          },
        },
      },
    },
    notifications: {
      name: NOTIFICATION_QUEUE,
      description: 'one delivery per outbox row: an email or a webhook',
      jobs: {
        [EMAIL_JOB]: {
          name: EMAIL_JOB,
          version: 1,
          options: {
            attempts: policy.mail.attempts,
            backoff: { type: 'exponential', delay: policy.mail.backoffMs, jitter: 0.5 },
            ...RETENTION,
          },
        },
        [WEBHOOK_JOB]: {
          name: WEBHOOK_JOB,
          version: 1,
          options: {
            // Svix's habit: the first attempt at once, then one per entry of the schedule.
            attempts: policy.webhooks.scheduleMs.length + 1,
            backoff: { type: SCHEDULE_BACKOFF },
            ...RETENTION,
          },
        },
      },
    },
    maintenance: {
      name: MAINTENANCE_QUEUE,
      description:
        'scheduled housekeeping: blob sweep, outbox dispatch, dead-letter reconciliation, record purge',
      jobs: {
        [SWEEP_BLOBS_JOB]: { name: SWEEP_BLOBS_JOB, version: 1, options: MAINTENANCE_OPTIONS },
        [DISPATCH_OUTBOX_JOB]: {
          name: DISPATCH_OUTBOX_JOB,
          version: 1,
          options: MAINTENANCE_OPTIONS,
        },
        [RECONCILE_DEAD_LETTERS_JOB]: {
          name: RECONCILE_DEAD_LETTERS_JOB,
          version: 1,
          options: MAINTENANCE_OPTIONS,
        },
        [PURGE_RECORDS_JOB]: { name: PURGE_RECORDS_JOB, version: 1, options: MAINTENANCE_OPTIONS },
      },
    },
  } as const satisfies Record<string, QueueDefinition>;
}

export type JobCatalog = ReturnType<typeof jobCatalog>;

/** The catalog's queues in a fixed order (CLI output, dashboard, reconciliation). */
export function catalogQueues(catalog: JobCatalog): QueueDefinition[] {
  return [catalog.replies, catalog.notifications, catalog.maintenance];
}
