import { REPLY_JOB, replyJobId, validateReplyJob, type ReplyJob } from './reply-job.ts';

/**
 * What {@link enqueueReply} needs of a queue: BullMQ's `Queue#add`. Any `new Queue('replies', …)`
 * from bullmq fits, so this package stays free of BullMQ and of I/O: the producer owns the
 * queue, its connection and its prefix.
 */
export interface ReplyJobQueue {
  add(name: typeof REPLY_JOB, data: ReplyJob, options: ReplyJobOptions): Promise<unknown>;
}

/**
 * The BullMQ job options a reply job is added with (the subset of BullMQ's `JobsOptions` that
 * matters here, spelled as BullMQ spells it); `jobId` is always `reply-<replyid>`.
 */
export interface ReplyJobOptions {
  jobId: string;
  attempts?: number;
  backoff?: number | { type: string; delay?: number; jitter?: number };
  removeOnComplete?: boolean | number | KeepJobs;
  removeOnFail?: boolean | number | KeepJobs;
}

/** BullMQ's retention of finished jobs: the newest `count`, or those younger than `age` seconds. */
type KeepJobs = { count: number } | { age: number; count?: number; limit?: number };

/**
 * Options for producers outside Ticketflow, equal to what its own producers use with the
 * default configuration: without `attempts`, BullMQ tries a job once, so a reply that meets a
 * database restart would be dead-lettered instead of retried. Completed jobs are trimmed and
 * failed ones kept 30 days, so Redis memory stays bounded.
 */
export const REPLY_JOB_OPTIONS: Readonly<Omit<ReplyJobOptions, 'jobId'>> = Object.freeze({
  attempts: 6,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
});

/**
 * Validates `payload` against contract v1 and adds it to `queue` under job name `reply` and job
 * id `reply-<replyid>` (API.md §9). Resolves with the validated job once Redis holds it. The job
 * id only saves work on a repeated add; the `dedupeKey` is what keeps a reply to one copy.
 *
 * @param options BullMQ job options other than `jobId`; {@link REPLY_JOB_OPTIONS} by default.
 * @throws TypeError naming each bad field when the payload is not a valid v1 job (nothing is added).
 */
export async function enqueueReply(
  queue: ReplyJobQueue,
  payload: unknown,
  options: Omit<ReplyJobOptions, 'jobId'> = REPLY_JOB_OPTIONS,
): Promise<ReplyJob> {
  const check = validateReplyJob(payload);
  if (!check.ok) throw new TypeError(check.reason);
  await queue.add(REPLY_JOB, check.job, { ...options, jobId: replyJobId(check.job.replyid) });
  return check.job;
}
