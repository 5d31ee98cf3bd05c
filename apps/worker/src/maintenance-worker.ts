import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import {
  findUndispatched,
  purgeRecords,
  reconcileDeadLetter,
  type BlobStore,
  type Db,
  type OutboxRef,
} from '@ticketflow/db';
import {
  DISPATCH_OUTBOX_JOB,
  PURGE_RECORDS_JOB,
  RECONCILE_DEAD_LETTERS_JOB,
  SWEEP_BLOBS_JOB,
  catalogQueues,
  openQueue,
  type JobCatalog,
  type RedisClient,
} from '@ticketflow/queue';
import type { HitFault } from './fault-points.ts';
import {
  startQueueWorker,
  type QueueWorker,
  type QueueWorkerOptions,
} from './start-queue-worker.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface MaintenanceWorkerOptions {
  db: Db;
  blobs: BlobStore;
  catalog: JobCatalog;
  connection: RedisClient;
  prefix: string;
  /** Unreferenced blobs older than this are removed. */
  blobGraceMs: number;
  blobSweepEveryMs: number;
  /** Outbox dispatch and dead-letter reconciliation period; also the age an outbox row must reach. */
  outboxSweepMs: number;
  /** `inbound_emails` rows last seen longer ago than this are purged. */
  inboundEmailRetentionDays: number;
  /** How often old records and expired idempotency keys are purged. */
  purgeEveryMs: number;
  /** Enqueues outbox rows (the reply worker's dispatcher). */
  dispatch: (notifications: readonly OutboxRef[]) => Promise<void>;
  logger: Logger;
  hitFault: HitFault;
  lockDurationMs: number;
  stalledIntervalMs: number;
  watchdog?: QueueWorkerOptions['watchdog'];
  metrics?: WorkerMetrics;
}

/** Rows the outbox sweep enqueues per query; it queries again while it finds a full page. */
const OUTBOX_PAGE = 500;
/** Failed jobs read per page when reconciling. */
const FAILED_PAGE = 200;

/**
 * Runs the scheduled housekeeping jobs one at a time: the blob sweep, the outbox sweep (rows
 * whose notification was never enqueued: a crash between commit and enqueue), the
 * dead-letter reconciliation (jobs BullMQ failed without our processor, e.g. stalled too often)
 * and the record purge (old `inbound_emails` rows, expired idempotency keys).
 * BullMQ's job scheduler keeps one schedule per job however many workers upsert it.
 */
export function startMaintenanceWorker(options: MaintenanceWorkerOptions): QueueWorker {
  const { logger, catalog } = options;
  const definition = catalog.maintenance;
  const schedules: Array<[string, number]> = [
    [SWEEP_BLOBS_JOB, options.blobSweepEveryMs],
    [DISPATCH_OUTBOX_JOB, options.outboxSweepMs],
    [RECONCILE_DEAD_LETTERS_JOB, options.outboxSweepMs],
    [PURGE_RECORDS_JOB, options.purgeEveryMs],
  ];
  // Not awaited: with Redis still down this waits for it, and health must answer meanwhile.
  schedule(options, schedules).catch((error: unknown) =>
    logger.error({ err: error }, 'could not schedule the maintenance jobs'),
  );
  return startQueueWorker(
    definition,
    async (job: Job) => {
      switch (job.name) {
        case SWEEP_BLOBS_JOB: {
          const swept = await options.blobs.sweep(options.blobGraceMs);
          if (swept.blobs + swept.uploads > 0)
            logger.info(swept, 'swept unreferenced attachment blobs');
          return swept;
        }
        case DISPATCH_OUTBOX_JOB:
          return { dispatched: await sweepOutbox(options) };
        case PURGE_RECORDS_JOB: {
          const purged = await purgeRecords(options.db, {
            inboundEmailRetentionDays: options.inboundEmailRetentionDays,
          });
          if (purged.inboundEmails + purged.idempotencyKeys > 0)
            logger.info(purged, 'purged old inbound emails and expired idempotency keys');
          return purged;
        }
        default:
          return { reconciled: await reconcileFailedJobs(options) };
      }
    },
    { ...options, concurrency: 1 },
  );
}

async function schedule(
  options: MaintenanceWorkerOptions,
  schedules: Array<[string, number]>,
): Promise<void> {
  const queue = openQueue(options.catalog.maintenance, options.connection, options.prefix);
  try {
    for (const [name, every] of schedules) {
      const job = options.catalog.maintenance.jobs[name as keyof JobCatalog['maintenance']['jobs']];
      await queue.upsertJobScheduler(name, { every }, { name, opts: job.options });
    }
  } finally {
    await queue.close();
  }
}

async function sweepOutbox(options: MaintenanceWorkerOptions): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await findUndispatched(options.db, options.outboxSweepMs, OUTBOX_PAGE);
    if (rows.length > 0) await options.dispatch(rows);
    total += rows.length;
    if (rows.length < OUTBOX_PAGE) break;
  }
  if (total > 0)
    options.logger.warn({ rows: total }, 'outbox sweep enqueued undispatched notifications');
  return total;
}

/**
 * Writes a dead letter for each recently failed job that has none. The window covers a few
 * periods, so a reconciler that missed a run (every worker down) still finds what failed.
 */
async function reconcileFailedJobs(options: MaintenanceWorkerOptions): Promise<number> {
  const since = Date.now() - (4 * options.outboxSweepMs + 60_000);
  let reconciled = 0;
  for (const definition of catalogQueues(options.catalog)) {
    const queue: Queue = openQueue(definition, options.connection, options.prefix);
    try {
      for (let start = 0; ; start += FAILED_PAGE) {
        const jobs = await queue.getFailed(start, start + FAILED_PAGE - 1);
        for (const job of jobs) {
          if ((job.finishedOn ?? 0) < since) continue;
          await reconcileDeadLetter(options.db, {
            queue: definition.name,
            jobId: job.id ?? 'unknown',
            name: job.name,
            payload: job.data,
            reason: 'retries_exhausted',
            error: job.failedReason || 'failed without a reason',
            attempts: job.attemptsMade,
            failedAt: new Date(job.finishedOn ?? Date.now()),
          });
          reconciled += 1;
        }
        // Newest first: a page that ends before the window ends the scan.
        const last = jobs.at(-1);
        if (jobs.length < FAILED_PAGE || (last?.finishedOn ?? 0) < since) break;
      }
    } finally {
      await queue.close();
    }
  }
  return reconciled;
}
