import { UnrecoverableError, type Job } from 'bullmq';
import { randomInt } from 'node:crypto';
import {
  ApiError,
  checkAttachmentName,
  decodeBase64,
  resolveCustomFields,
  validateReplyJob,
  type CustomFieldDefinition,
  type ReplyJob,
} from '@ticketflow/contract';
import {
  createCustomFieldLookup,
  createTicketLookup,
  type BlobStore,
  type Db,
  type InsertOutcome,
  type NewReply,
} from '@ticketflow/db';
import { createReplyCommitter } from './commit-replies.ts';
import { decideReply } from './decide-reply.ts';

export interface ReplyProcessorDeps {
  db: Db;
  blobs: BlobStore;
  /** The same attachment rules the ingress applies. */
  attachments: { extensions: readonly string[]; count: number };
}

export interface ReplyResult {
  replyid: string;
  outcome: InsertOutcome;
}

/**
 * The reply processor: validate the job again (producers other than the ingress enqueue
 * directly), decide, then store in one transaction. Poison input and permanent database
 * refusals throw UnrecoverableError (no retries); anything else throws plainly and retries.
 */
export function createReplyProcessor(deps: ReplyProcessorDeps, now: () => Date = () => new Date()) {
  const { db } = deps;
  const findTicket = createTicketLookup(db);
  const findCustomFields = createCustomFieldLookup(db);
  const commit = createReplyCommitter(db);
  return async function processReply(job: Job): Promise<ReplyResult> {
    const check = validateReplyJob(job.data);
    if (!check.ok) throw new UnrecoverableError(check.reason);
    const data = check.job;
    const ticket = await findTicket(data.ticket);
    if (!ticket) {
      throw new UnrecoverableError(
        `ticket ${'id' in data.ticket ? data.ticket.id : data.ticket.num} does not exist`,
      );
    }
    const customFields =
      data.customfields.length === 0
        ? []
        : resolveJobCustomFields(data, await findCustomFields(ticket.departmentId));
    const attachments = await resolveJobAttachments(deps, data);
    const reply = decideReply(data, ticket, { customFields, attachments }, now());
    try {
      return { replyid: data.replyid, outcome: await commit(reply) };
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
function resolveJobCustomFields(
  job: ReplyJob,
  definitions: CustomFieldDefinition[],
): NewReply['customFields'] {
  try {
    return resolveCustomFields(job.customfields, definitions);
  } catch (error) {
    if (error instanceof ApiError) throw new UnrecoverableError(error.message);
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
    throw new UnrecoverableError(`more than ${deps.attachments.count} attachments`);
  }
  let inlineBytes = 0;
  const resolved: Array<NewReply['attachments'][number]> = [];
  for (const [i, attachment] of job.attachments.entries()) {
    let name: string;
    try {
      name = checkAttachmentName(i + 1, attachment.name, deps.attachments.extensions);
    } catch (error) {
      if (error instanceof ApiError) throw new UnrecoverableError(error.message);
      throw error;
    }
    let sha256: string;
    if ('data' in attachment) {
      const bytes = decodeBase64(attachment.data);
      if (!bytes) throw new UnrecoverableError(`Attachment ${i + 1}: data is not valid base64`);
      inlineBytes += bytes.length;
      if (inlineBytes > MAX_INLINE_BYTES) {
        throw new UnrecoverableError(
          'inline attachment data exceeds 256 KiB in all; use blob references',
        );
      }
      const tooLarge = () => new UnrecoverableError('inline attachment data exceeds 256 KiB');
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
 * SQLSTATE classes that no retry can fix: integrity (23: a client, contact or status that does
 * not exist, a reused reply id) and data exceptions (22). Connection loss, deadlocks (40P01)
 * and serialization failures (40001) are transient.
 */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}
