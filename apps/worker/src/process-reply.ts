import type { Job } from 'bullmq';
import { randomInt } from 'node:crypto';
import {
  ApiError,
  checkAttachmentName,
  decodeBase64,
  resolveCustomFields,
  validateReplyJob,
  type CustomFieldDefinition,
  type DeadReason,
  type ReplyJob,
} from '@ticketflow/contract';
import {
  createCustomFieldLookup,
  createTicketLookup,
  type BlobStore,
  type Db,
  type InsertOutcome,
  type NewReply,
  type OutboxRef,
} from '@ticketflow/db';
import { FinalJobError } from '@ticketflow/queue';
import { createReplyCommitter } from './commit-replies.ts';
import { decideReply } from './decide-reply.ts';
import type { HitFault } from './fault-points.ts';

export interface ReplyProcessorDeps {
  db: Db;
  blobs: BlobStore;
  /** The same attachment rules the ingress applies. */
  attachments: { extensions: readonly string[]; count: number };
  /**
   * Enqueues the notifications a stored reply's transaction wrote. Its failures are the
   * outbox sweeper's to repair, never the reply's: the reply is stored either way.
   */
  dispatch: (notifications: OutboxRef[]) => Promise<void>;
  hitFault: HitFault;
}

export interface ReplyResult {
  replyid: string;
  outcome: InsertOutcome;
  /** Notifications the reply's transaction wrote (none for a duplicate). */
  notifications: number;
}

/**
 * The reply processor: validate the job again (producers other than the ingress enqueue
 * directly), decide, store in one transaction with its outbox rows, then enqueue those. Poison
 * input and permanent database refusals throw FinalJobError (no retries, a dead letter with
 * its reason); anything else throws plainly and retries.
 *
 * The ticket is read by the statement that stores the reply, not looked up before it: a lookup
 * put a second PostgreSQL round trip on every job's path, ahead of the group commit, and at
 * concurrency 10 took about a sixth of each job's time. Only custom fields need the ticket
 * first (its department's definitions). A job whose ticket is missing may by then have stored
 * inline attachment blobs; no reply references them, so the blob sweep removes them.
 */
export function createReplyProcessor(deps: ReplyProcessorDeps, now: () => Date = () => new Date()) {
  const { db } = deps;
  const findTicket = createTicketLookup(db);
  const findCustomFields = createCustomFieldLookup(db);
  const commit = createReplyCommitter(db);
  return async function processReply(job: Job): Promise<ReplyResult> {
    const check = validateReplyJob(job.data);
    if (!check.ok) throw new FinalJobError('invalid_job', check.reason);
    const data = check.job;
    let customFields: NewReply['customFields'] = [];
    if (data.customfields.length > 0) {
      const ticket = await findTicket(data.ticket);
      if (!ticket) throw ticketNotFound(data);
      customFields = resolveJobCustomFields(data, await findCustomFields(ticket.departmentId));
    }
    const attachments = await resolveJobAttachments(deps, data);
    const reply = decideReply(data, { customFields, attachments }, now());
    let stored;
    try {
      stored = await commit(reply);
    } catch (error) {
      const reason = permanentReason(error);
      if (reason) {
        throw new FinalJobError(
          reason,
          `the database refused the reply: ${(error as Error).message}`,
        );
      }
      throw error;
    }
    if (!stored) throw ticketNotFound(data);
    deps.hitFault('after-reply-commit');
    if (stored.notifications.length > 0) await deps.dispatch(stored.notifications);
    return {
      replyid: data.replyid,
      outcome: stored.outcome,
      notifications: stored.notifications.length,
    };
  };
}

function ticketNotFound(job: ReplyJob): FinalJobError {
  const { ticket } = job;
  return new FinalJobError(
    'ticket_not_found',
    `ticket ${'id' in ticket ? ticket.id : ticket.num} does not exist`,
  );
}

/**
 * Checks the job's custom fields against the ticket's department again: a bridge may name
 * fields by name, or send values the ingress would have refused. A refusal is permanent.
 */
function resolveJobCustomFields(
  job: ReplyJob,
  definitions: CustomFieldDefinition[],
): NewReply['customFields'] {
  try {
    return resolveCustomFields(job.customfields, definitions);
  } catch (error) {
    if (error instanceof ApiError) throw new FinalJobError('invalid_custom_field', error.message);
    throw error;
  }
}

/** API.md §9: producers without the blob store may inline this much base64-decoded data. */
const MAX_INLINE_BYTES = 256 * 1024;

/**
 * Names are checked again (bridges send raw names); inline `data` is decoded and stored with the
 * same blob store the ingress uses; blob references are checked by the reply's foreign key.
 * Each stored name gets WHMCS's six random digits: `NNNNNN_name`.
 */
async function resolveJobAttachments(
  deps: ReplyProcessorDeps,
  job: ReplyJob,
): Promise<NewReply['attachments']> {
  if (job.attachments.length > deps.attachments.count) {
    throw new FinalJobError(
      'invalid_attachment',
      `more than ${deps.attachments.count} attachments`,
    );
  }
  let inlineBytes = 0;
  const resolved: Array<NewReply['attachments'][number]> = [];
  for (const [i, attachment] of job.attachments.entries()) {
    let name: string;
    try {
      name = checkAttachmentName(i + 1, attachment.name, deps.attachments.extensions);
    } catch (error) {
      if (error instanceof ApiError) throw new FinalJobError('invalid_attachment', error.message);
      throw error;
    }
    let sha256: string;
    if ('data' in attachment) {
      const bytes = decodeBase64(attachment.data);
      if (!bytes) {
        throw new FinalJobError(
          'invalid_attachment',
          `Attachment ${i + 1}: data is not valid base64`,
        );
      }
      inlineBytes += bytes.length;
      if (inlineBytes > MAX_INLINE_BYTES) {
        throw new FinalJobError(
          'invalid_attachment',
          'inline attachment data exceeds 256 KiB in all; use blob references',
        );
      }
      const tooLarge = () =>
        new FinalJobError('invalid_attachment', 'inline attachment data exceeds 256 KiB');
      sha256 = (await deps.blobs.write(bytes, MAX_INLINE_BYTES, tooLarge)).sha256;
    } else {
      sha256 = attachment.blob.sha256;
    }
    resolved.push({
      storedName: `${String(randomInt(0, 1_000_000)).padStart(6, '0')}_${name}`,
      originalName: attachment.name,
      sha256,
    });
  }
  return resolved;
}

/**
 * SQLSTATE classes that no retry can fix: integrity (23: a client, contact, status or blob
 * that does not exist, a reused reply id) and data exceptions (22). Connection loss, deadlocks
 * (40P01) and serialization failures (40001) are transient: undefined, so the job retries. The
 * violated constraint names the public reason.
 */
function permanentReason(error: unknown): DeadReason | undefined {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  if (typeof code !== 'string' || !/^2[23]/.test(code)) return undefined;
  const name = typeof constraint === 'string' ? constraint : '';
  if (/client_id|contact_id/.test(name)) return 'author_not_found';
  if (/status/.test(name)) return 'status_not_found';
  if (/sha256/.test(name)) return 'invalid_attachment';
  if (/ticket_id/.test(name)) return 'ticket_not_found';
  return 'refused_by_database';
}
