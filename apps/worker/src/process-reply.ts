import { UnrecoverableError, type Job } from 'bullmq';
import { validateReplyJob } from '@ticketflow/contract';
import { findTicket, insertReply, type Db, type InsertOutcome } from '@ticketflow/db';
import { decideReply } from './decide-reply.ts';

export interface ReplyResult {
  replyid: string;
  outcome: InsertOutcome;
}

/**
 * The reply processor: validate the job again (producers other than the ingress enqueue
 * directly), decide, then store in one transaction. Poison input and permanent database
 * refusals throw UnrecoverableError (no retries); anything else throws plainly and retries.
 */
export function createReplyProcessor(db: Db, now: () => Date = () => new Date()) {
  return async function processReply(job: Job): Promise<ReplyResult> {
    const check = validateReplyJob(job.data);
    if (!check.ok) throw new UnrecoverableError(check.reason);
    const data = check.job;
    if (data.customfields.length > 0 || data.attachments.length > 0) {
      // Until custom fields (issue 5) and attachments (issue 4) land, refuse rather than drop them.
      throw new UnrecoverableError(
        'customfields and attachments are not processed by this version yet',
      );
    }
    const ticket = await findTicket(db, data.ticket);
    if (!ticket) {
      throw new UnrecoverableError(
        `ticket ${'id' in data.ticket ? data.ticket.id : data.ticket.num} does not exist`,
      );
    }
    const reply = decideReply(data, ticket, now());
    try {
      return { replyid: data.replyid, outcome: await insertReply(db, reply) };
    } catch (error) {
      if (isPermanent(error)) {
        throw new UnrecoverableError(`the database refused the reply: ${(error as Error).message}`);
      }
      throw error;
    }
  };
}

/**
 * SQLSTATE classes that no retry can fix: integrity (23: a client, contact or status that does
 * not exist, a reused reply id) and data exceptions (22). Connection loss, deadlocks (40P01)
 * and serialization failures (40001) are transient.
 */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
