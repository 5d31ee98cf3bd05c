import type { ReplyJob } from '@ticketflow/contract';
import type { NewReply, TicketSummary } from '@ticketflow/db';
import { renderMarkdown, renderPlain } from './render-markdown.ts';

/** Status a staff reply sets unless it names another (WHMCS). */
export const STAFF_DEFAULT_STATUS = 'Answered';
/** Status every end-user reply sets, whatever it asks for (WHMCS). */
export const END_USER_STATUS = 'Customer-Reply';

/**
 * Turns a validated job into the row to store: author columns, rendered HTML, the ticket's new
 * status, the reply's time, and the custom fields and attachments resolved beforehand. Pure: no I/O, same answer for the same input.
 */
export function decideReply(
  job: ReplyJob,
  ticket: TicketSummary,
  resolved: Pick<NewReply, 'customFields' | 'attachments'>,
  now: Date,
): NewReply {
  const author = job.author;
  return {
    replyUid: job.replyid,
    dedupeKey: job.dedupeKey,
    ticketId: ticket.id,
    clientId: author.type === 'client' ? author.clientid : null,
    contactId: author.type === 'client' ? author.contactid : null,
    name: author.type === 'guest' ? author.name : '',
    email: author.type === 'guest' ? author.email : '',
    admin: author.type === 'staff' ? author.admin : '',
    message: job.message,
    messageHtml: job.markdown ? renderMarkdown(job.message) : renderPlain(job.message),
    editor: job.markdown ? 'markdown' : 'plain',
    createdAt: job.created ? new Date(job.created) : now,
    source: job.source.kind,
    sourcePrincipal: job.source.principal,
    sourceMessageId: job.source.messageId ?? null,
    receivedAt: new Date(job.receivedAt),
    ticketStatus: author.type === 'staff' ? (job.status ?? STAFF_DEFAULT_STATUS) : END_USER_STATUS,
    customFields: resolved.customFields,
    attachments: resolved.attachments,
    notifyEmail: decideEmailRecipient(job, ticket),
    requestId: job.requestId ?? null,
  };
}

/**
 * Who is emailed about a reply (WHMCS): an end-user reply (client, contact or guest) tells the
 * ticket's department; a staff reply tells the ticket's requester. `noemail` sends neither.
 * Webhooks are not decided here: every reply fires them to the endpoints enabled at commit.
 */
export function decideEmailRecipient(
  job: Pick<ReplyJob, 'author' | 'noemail'>,
  ticket: Pick<TicketSummary, 'departmentEmail' | 'requesterEmail'>,
): string | null {
  if (job.noemail) return null;
  return job.author.type === 'staff' ? ticket.requesterEmail : ticket.departmentEmail || null;
}
