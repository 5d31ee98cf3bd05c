import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** Queue of periodic housekeeping jobs, run by the workers. */
export const MAINTENANCE_QUEUE = 'maintenance';
/** Removes staged attachment blobs no reply references (ARCHITECTURE.md guarantee 3). */
export const SWEEP_BLOBS_JOB = 'sweep-blobs';

/**
 * Schedules the blob sweep with BullMQ's job scheduler: one schedule however many workers
 * upsert it, so N workers do not sweep N times.
 */
export async function scheduleBlobSweep(
  connection: Redis,
  prefix: string,
  everyMs: number,
): Promise<void> {
  const queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix });
  try {
    await queue.upsertJobScheduler(
      SWEEP_BLOBS_JOB,
      { every: everyMs },
      {
        name: SWEEP_BLOBS_JOB,
        opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } },
      },
    );
  } finally {
    await queue.close();
  }
}
