import type { Queue } from 'bullmq';
import { allOk, batchCalls } from '@ticketflow/batch';
import { EMAIL_JOB, WEBHOOK_JOB, notificationJobId } from '@ticketflow/contract';
import { markDispatched, type Db, type OutboxRef } from '@ticketflow/db';
import { jobOptions, type JobCatalog } from '@ticketflow/queue';

/**
 * Enqueues outbox rows on `notifications` (job id derived from the outbox id, so a second
 * enqueue of a row still in Redis is a no-op) and notes them dispatched. Concurrent replies
 * share one `addBulk` and one UPDATE. A crash between the two leaves rows the sweeper enqueues
 * again, and the delivery record makes that harmless.
 */
export function createNotificationDispatcher(
  queue: Queue,
  definition: JobCatalog['notifications'],
  db: Db,
): (notifications: readonly OutboxRef[]) => Promise<void> {
  return batchCalls(
    async (groups: Array<readonly OutboxRef[]>) => {
      const refs = groups.flat();
      await queue.addBulk(
        refs.map((ref) => {
          const job = definition.jobs[ref.channel === 'email' ? EMAIL_JOB : WEBHOOK_JOB];
          return {
            name: job.name,
            data:
              ref.endpointId === null
                ? { v: 1, outboxId: ref.outboxId }
                : { v: 1, outboxId: ref.outboxId, endpointId: ref.endpointId },
            opts: jobOptions(job, notificationJobId(ref.outboxId)),
          };
        }),
      );
      await markDispatched(
        db,
        refs.map((ref) => ref.outboxId),
      );
      return allOk(groups.map(() => undefined));
    },
    { maxBatch: 64, maxInFlight: 2 },
  );
}
