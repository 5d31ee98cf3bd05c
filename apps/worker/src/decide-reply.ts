import type { ReplyJob } from '@ticketflow/contract';
import type { NewReply } from '@ticketflow/db';
import { renderMarkdown, renderPlain } from './render-markdown.ts';

/** Status a staff reply sets unless it names another (WHMCS). */
export const STAFF_DEFAULT_STATUS = 'Answered';
/** Status every end-user reply sets, whatever it asks for (WHMCS). */
export const END_USER_STATUS = 'Customer-Reply';

/**
 * Turns a validated job into the row to store: its ticket as the job names it, author columns,
 * rendered HTML, the ticket's new status, who is emailed, the reply's time, and the custom
 * fields and attachments resolved beforehand. The ticket itself is read by the statement that
 * stores the reply. Pure: no I/O, same answer for the same input.
 */
export function decideReply(
  job: ReplyJob,
  resolved: Pick<NewReply, 'customFields' | 'attachments'>,
  now: Date,
): NewReply {
  const author = job.author;
  return {
    replyUid: job.replyid,
    dedupeKey: job.dedupeKey,
    ticket: job.ticket,
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
    notify: decideEmailRecipient(job),
    requestId: job.requestId ?? null,
  };
}

/**
 * Who is emailed about a reply (WHMCS): an end-user reply (client, contact or guest) tells the
 * ticket's department; a staff reply tells the ticket's requester. `noemail` sends neither.
 * Their address is the ticket's, read when the reply is stored; none there, no email.
 * Webhooks are not decided here: every reply fires them to the endpoints enabled at commit.
 */
export function decideEmailRecipient(
  job: Pick<ReplyJob, 'author' | 'noemail'>,
): NewReply['notify'] {
  if (job.noemail) return null;
  return job.author.type === 'staff' ? 'requester' : 'department';
}
