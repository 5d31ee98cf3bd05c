import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { NOTIFICATION_QUEUE } from '@ticketflow/contract';
import type { Arrivals } from './arrivals.ts';
import { sleep } from './processes.ts';

/** How long a side may take to deliver what it was given before the run is declared stuck. */
const DELIVERY_TIMEOUT_MS = 180_000;
const WATCH_EVERY_MS = 250;
const BUSY: JobType[] = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'];

/**
 * What a `serve --worker` child needs to deliver notifications in the bench: mail to the
 * orchestrator's SMTP sink (without SMTP_URL it would write `.eml` files into the repository),
 * and webhooks to receivers on 127.0.0.1, which the SSRF guard refuses unless told otherwise.
 */
export function notificationEnv(smtpUrl: string): Record<string, string> {
  return { SMTP_URL: smtpUrl, TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' };
}

/** The orchestrator's handle on one prefix's `notifications` queue (never a worker). */
export function openNotificationQueue(redis: Redis, prefix: string): Queue {
  return new Queue(NOTIFICATION_QUEUE, { connection: redis, prefix });
}

/**
 * Resolves with when (`performance.now()`) the nth delivery reached its sink. A job that fails
 * for good on `queue` meanwhile ends the wait at once; a run that stalls ends at a deadline.
 * Delayed jobs are not failures here: the product parks a webhook over its endpoint's cap.
 */
export async function untilDelivered(
  arrivals: Arrivals,
  n: number,
  queue: Queue,
  label: string,
): Promise<number> {
  const reached = arrivals.reached(n);
  const failedBefore = await queue.getFailedCount();
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const at = await Promise.race([reached, sleep(WATCH_EVERY_MS).then(() => undefined)]);
    if (at !== undefined) return at;
    if ((await queue.getFailedCount()) > failedBefore) {
      const [job] = await queue.getFailed(0, 0);
      throw new Error(`${label}: notification ${job?.id} failed: ${job?.failedReason}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${label}: ${arrivals.count} of ${n} deliveries arrived in time`);
    }
  }
}

/** Waits until `queue` holds no job still to run (the last completions after the last arrival). */
export async function waitIdle(queue: Queue, label: string): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const counts = await queue.getJobCounts(...BUSY);
    const left = Object.values(counts).reduce((a, b) => a + b, 0);
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`${label}: ${left} notification jobs never ran`);
    await sleep(50);
  }
}
