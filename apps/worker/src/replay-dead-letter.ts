import { readNotificationJob } from '@ticketflow/contract';
import type { Queue } from 'bullmq';
import {
  markDeadLetterReplayed,
  reopenDelivery,
  type Db,
  type StoredDeadLetter,
} from '@ticketflow/db';
import {
  catalogQueues,
  jobOptions,
  type JobCatalog,
  type JobDefinition,
  type QueueDefinition,
} from '@ticketflow/queue';

/** How to replay one dead letter, or why it cannot be. */
type ReplayPlan =
  | {
      ok: true;
      queue: QueueDefinition;
      job: JobDefinition;
      /** Notifications: the outbox row to reopen before the job runs again. */
      outboxId: string | null;
    }
  | { ok: false; reason: string };

/**
 * Decides how a dead letter is replayed: on its catalog queue, under a job name that queue
 * runs (a job is only ever re-added with its catalog options), and for a notification, with
 * the outbox row its payload names.
 */
export function planReplay(letter: StoredDeadLetter, catalog: JobCatalog): ReplayPlan {
  const queue = catalogQueues(catalog).find((q) => q.name === letter.queue);
  if (!queue) return { ok: false, reason: `queue "${letter.queue}" is not one Ticketflow runs` };
  const job = Object.hasOwn(queue.jobs, letter.name) ? queue.jobs[letter.name] : undefined;
  if (!job) {
    return {
      ok: false,
      reason: `queue ${queue.name} runs no job named "${letter.name}" (it runs ${Object.keys(queue.jobs).join(', ')})`,
    };
  }
  if (queue.name !== catalog.notifications.name) return { ok: true, queue, job, outboxId: null };
  const notification = readNotificationJob(letter.payload);
  if (!notification)
    return { ok: false, reason: 'its payload is not a notification job (v1 with an outboxId)' };
  return { ok: true, queue, job, outboxId: notification.outboxId };
}

/**
 * Puts a dead letter's job back to work: BullMQ's own failed job is retried with a fresh attempt
 * budget when it still holds it; otherwise (removed after its retention) the job is added again
 * from the stored payload, under the same id with the catalog's options. A notification's outbox
 * row is reopened first. Safe however often it runs: a reply's dedupe key stores it at most
 * once, and a notification's delivery record sends it at most once.
 */
export async function replayDeadLetter(
  db: Db,
  queueFor: (definition: QueueDefinition) => Queue,
  catalog: JobCatalog,
  letter: StoredDeadLetter,
): Promise<'retried' | 'added'> {
  const plan = planReplay(letter, catalog);
  if (!plan.ok) throw new Error(plan.reason);
  // The worker delivers a reopened row; a row delivered meanwhile stays delivered.
  if (plan.outboxId) await reopenDelivery(db, plan.outboxId);
  const queue = queueFor(plan.queue);
  const job = await queue.getJob(letter.jobId);
  let how: 'retried' | 'added';
  if (job && (await job.getState()) === 'failed') {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    how = 'retried';
  } else {
    await queue.add(letter.name, letter.payload, jobOptions(plan.job, letter.jobId));
    how = 'added';
  }
  await markDeadLetterReplayed(db, letter.id);
  return how;
}
