import { REPLY_QUEUE, describeDeadReason, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { findDeadLetter, findReply, type Db } from '@ticketflow/db';
import type { RedisClient, ReplyQueue } from '@ticketflow/queue';
import { callRedis } from './call-redis.ts';

/** Where an accepted reply is (API.md §1, `/api/v2/replies/:replyid`). */
export interface ReplyState {
  status: 'queued' | 'processing' | 'persisted' | 'failed' | 'dead';
  /** Token `sub` that submitted it, for the client-token check. */
  principal: string;
  ticketid?: number;
  persistedAt?: string;
  attempts?: number;
  /** `dead`: a sentence from the contract's dead reasons, never the raw error. */
  reason?: string;
}

/** What `failed` (retrying) says: the raw error may name tables or hosts, so it stays in the log. */
const RETRYING = 'a temporary error; it will be retried';

/**
 * PostgreSQL first (a persisted reply is final), then the BullMQ job, then the dead letters.
 * Undefined when no trace of the reply exists.
 */
export async function findReplyState(
  db: Db,
  { queue, redis }: { queue: ReplyQueue; redis: RedisClient },
  replyid: string,
): Promise<ReplyState | undefined> {
  const stored = await findReply(db, replyid);
  if (stored) {
    return {
      status: 'persisted',
      principal: stored.sourcePrincipal,
      ticketid: stored.ticketId,
      persistedAt: stored.persistedAt.toISOString(),
    };
  }
  const jobId = replyJobId(replyid);
  const { job, state } = await callRedis(redis, async () => {
    const found = await queue.getJob(jobId);
    return { job: found, state: found ? await found.getState() : 'unknown' };
  });
  if (job && state !== 'unknown') {
    // Producers other than the ingress may have queued anything; read it defensively.
    const data = job.data as Partial<ReplyJob> | undefined;
    const ticket = data?.ticket;
    const base = {
      principal: data?.source?.principal ?? '',
      ticketid: ticket && 'id' in ticket ? ticket.id : undefined,
      attempts: job.attemptsMade,
    };
    switch (state) {
      case 'active':
        return { ...base, status: 'processing' };
      case 'completed':
        // Completed as a duplicate of a reply stored under the same dedupe key.
        return { ...base, status: 'persisted' };
      case 'failed': {
        // The worker writes the dead letter (with its reason) before BullMQ fails the job.
        const dead = await findDeadLetter(db, REPLY_QUEUE, jobId);
        return { ...base, status: 'dead', reason: describeDeadReason(dead?.reason) };
      }
      case 'delayed':
        return job.attemptsMade > 0
          ? { ...base, status: 'failed', reason: RETRYING }
          : { ...base, status: 'queued' };
      default:
        return { ...base, status: 'queued' };
    }
  }
  const dead = await findDeadLetter(db, REPLY_QUEUE, jobId);
  if (dead) {
    const payload = dead.payload as Partial<ReplyJob>;
    return {
      status: 'dead',
      principal: payload.source?.principal ?? '',
      attempts: dead.attempts,
      reason: describeDeadReason(dead.reason),
    };
  }
  return undefined;
}
