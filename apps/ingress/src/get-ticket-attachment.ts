import { apiError, fieldValue, readText, type FormMap } from '@ticketflow/contract';
import { findReplyAttachment, findTicket, type BlobStore, type Db } from '@ticketflow/db';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';
import { readReplyId } from './reply-id.ts';
import { assertMayReadTickets, mayReachTicket } from './ticket-access.ts';

/**
 * WHMCS GetTicketAttachment: `relatedid` (the reply id), `type=reply`, `index` (0-based, as
 * get-ticket lists it) → the stored filename and the exact bytes in base64. Same reach as
 * get-ticket: another client's reply answers like a missing one.
 */
export function createGetTicketAttachment(db: Db, blobs: BlobStore): Handler {
  return async function getTicketAttachment(req: ApiRequest): Promise<ApiResponse> {
    assertMayReadTickets(req.principal);
    const type = text(req.fields, 'type') ?? 'reply';
    if (type.toLowerCase() !== 'reply') {
      throw apiError(
        'invalid_parameter',
        'type',
        'only reply attachments are stored here; send type=reply',
      );
    }
    const relatedid = text(req.fields, 'relatedid');
    if (relatedid === undefined)
      throw apiError('invalid_parameter', 'relatedid', 'send the reply id');
    const indexText = text(req.fields, 'index') ?? '';
    if (!/^\d{1,4}$/.test(indexText)) {
      throw apiError('invalid_parameter', 'index', 'send the attachment index (0 for the first)');
    }
    const replyid = readReplyId(relatedid);
    const found = replyid ? await findReplyAttachment(db, replyid, Number(indexText)) : undefined;
    const ticket = found ? await findTicket(db, { id: found.ticketId }) : undefined;
    if (!found || !ticket || !mayReachTicket(req.principal, ticket)) {
      throw apiError('attachment_not_found', 'No attachment with that relatedid and index');
    }
    const bytes = await blobs.read(found.sha256);
    if (!bytes) throw apiError('attachment_not_found', 'Attachments Deleted');
    return {
      status: 200,
      body: { result: 'success', filename: found.storedName, data: bytes.toString('base64') },
    };
  };
}

/** A text field, trimmed; undefined when missing or blank. */
function text(fields: FormMap, name: string): string | undefined {
  const value = fieldValue(fields, name);
  return value === undefined ? undefined : readText(name, value).trim();
}
