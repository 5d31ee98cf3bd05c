import { UnrecoverableError, type Job } from 'bullmq';
import {
  ApiError,
  resolveCustomFields,
  validateReplyJob,
  type ReplyJob,
} from '@ticketflow/contract';
import {
  findTicket,
  insertReply,
  listCustomFields,
  type Db,
  type InsertOutcome,
  type NewReply,
} from '@ticketflow/db';
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
    if (data.attachments.length > 0) {
      // Until attachments (issue 4) land, refuse rather than drop them.
      throw new UnrecoverableError('attachments are not processed by this version yet');
    }
    const ticket = await findTicket(db, data.ticket);
    if (!ticket) {
      throw new UnrecoverableError(
        `ticket ${'id' in data.ticket ? data.ticket.id : data.ticket.num} does not exist`,
      );
    }
    const customFields = await resolveJobCustomFields(db, data, ticket.departmentId);
    const reply = decideReply(data, ticket, customFields, now());
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
 * Checks the job's custom fields against the ticket's department again: a bridge may name
 * fields by name, or send values the ingress would have refused. A refusal is permanent.
 */
async function resolveJobCustomFields(
  db: Db,
  job: ReplyJob,
  departmentId: number,
): Promise<NewReply['customFields']> {
  if (job.customfields.length === 0) return [];
  const definitions = await listCustomFields(db, departmentId);
  try {
    return resolveCustomFields(job.customfields, definitions);
  } catch (error) {
    if (error instanceof ApiError) throw new UnrecoverableError(error.message);
    throw error;
  }
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
