import { apiError, fieldValue, readText } from '@ticketflow/contract';
import {
  getTicketDetail,
  listCustomFieldValues,
  listReplies,
  listTicketAttachments,
  type ListedAttachment,
  type Db,
  type StoredReply,
} from '@ticketflow/db';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';
import { readTicketRef } from './read-ticket-ref.ts';
import { assertMayReadTickets, mayReachTicket } from './ticket-access.ts';

/** WHMCS/Keliweb GetTicket: the ticket and its replies, with the same reach as replying. */
export function createGetTicket(db: Db): Handler {
  return async function getTicket(req: ApiRequest): Promise<ApiResponse> {
    assertMayReadTickets(req.principal);
    const ref = readTicketRef(req.fields);
    const sortValue = fieldValue(req.fields, 'repliessort');
    const sort = sortValue === undefined ? 'ASC' : readText('repliessort', sortValue).toUpperCase();
    if (sort !== 'ASC' && sort !== 'DESC')
      throw apiError('invalid_parameter', 'repliessort', 'use ASC or DESC');

    const ticket = await getTicketDetail(db, ref);
    if (!ticket || !mayReachTicket(req.principal, ticket)) throw apiError('ticket_not_found');
    const [replies, customfields, attachments] = await Promise.all([
      listReplies(db, ticket.id, sort === 'ASC' ? 'asc' : 'desc'),
      listCustomFieldValues(db, ticket.id),
      listTicketAttachments(db, ticket.id),
    ]);
    const attachmentsOf = new Map<string, ListedAttachment[]>();
    for (const a of attachments) {
      const ofReply = attachmentsOf.get(a.replyUid);
      if (ofReply) ofReply.push(a);
      else attachmentsOf.set(a.replyUid, [a]);
    }
    return {
      status: 200,
      body: {
        result: 'success',
        ticketid: ticket.id,
        tid: ticket.tid,
        ticketnum: ticket.tid,
        deptid: ticket.departmentId,
        deptname: ticket.departmentName,
        userid: ticket.clientId ?? 0,
        contactid: ticket.contactId ?? 0,
        name: ticket.name,
        email: ticket.email,
        date: whmcsDate(ticket.createdAt),
        subject: ticket.subject,
        message: ticket.message,
        status: ticket.status,
        priority: ticket.priority,
        lastreply: ticket.lastReplyAt ? whmcsDate(ticket.lastReplyAt) : '',
        replies: {
          reply: replies.map((r) => toWhmcsReply(r, attachmentsOf.get(r.replyUid) ?? [])),
        },
        customfields,
      },
    };
  };
}

function toWhmcsReply(
  reply: StoredReply,
  attachments: readonly ListedAttachment[],
): Record<string, unknown> {
  return {
    replyid: reply.replyUid,
    userid: reply.clientId ?? 0,
    contactid: reply.contactId ?? 0,
    name: reply.name,
    email: reply.email,
    admin: reply.admin,
    date: whmcsDate(reply.createdAt),
    message: reply.message,
    editor: reply.editor,
    messagehtml: reply.messageHtml,
    attachments: attachments.map((a) => ({ filename: a.filename, index: a.index })),
  };
}

/** WHMCS dates: `YYYY-MM-DD HH:mm:ss`, here always UTC. */
function whmcsDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
