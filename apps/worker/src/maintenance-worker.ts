import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BlobStore } from '@ticketflow/db';
import { MAINTENANCE_QUEUE, SWEEP_BLOBS_JOB, scheduleBlobSweep } from '@ticketflow/queue';

export interface MaintenanceWorkerOptions {
  blobs: BlobStore;
  connection: Redis;
  prefix: string;
  /** Unreferenced blobs older than this are removed. */
  graceMs: number;
  everyMs: number;
  logger: Logger;
}

/** Runs the scheduled housekeeping jobs (today: the blob sweep), one at a time. */
export function startMaintenanceWorker(options: MaintenanceWorkerOptions): Worker {
  const { logger } = options;
  // Not awaited: with Redis still down this waits for it, and health must answer meanwhile.
  scheduleBlobSweep(options.connection, options.prefix, options.everyMs).catch((error: unknown) =>
    logger.error({ err: error }, 'could not schedule the blob sweep'),
  );
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job) => {
      if (job.name !== SWEEP_BLOBS_JOB) throw new Error(`unknown maintenance job ${job.name}`);
      const swept = await options.blobs.sweep(options.graceMs);
      if (swept.blobs + swept.uploads > 0)
        logger.info(swept, 'swept unreferenced attachment blobs');
      return swept;
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 1 },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'maintenance worker error'));
  return worker;
}
