import { apiError, readText, type FormValue } from '@ticketflow/contract';
import { findReplyAttachment, findTicket, type BlobStore, type Db } from '@ticketflow/db';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';
import { mayReachTicket } from './ticket-access.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * WHMCS GetTicketAttachment: `relatedid` (the reply id), `type=reply`, `index` (0-based, as
 * get-ticket lists it) → the stored filename and the exact bytes in base64. Same reach as
 * get-ticket: another client's reply answers like a missing one.
 */
export function createGetTicketAttachment(db: Db, blobs: BlobStore): Handler {
  return async function getTicketAttachment(req: ApiRequest): Promise<ApiResponse> {
    if (req.principal.role === 'ops') throw apiError('forbidden', 'ops tokens cannot read tickets');
    const type = text('type', req.fields.get('type')) ?? 'reply';
    if (type.toLowerCase() !== 'reply') {
      throw apiError(
        'invalid_parameter',
        'type',
        'only reply attachments are stored here; send type=reply',
      );
    }
    const relatedid = text('relatedid', req.fields.get('relatedid'));
    if (relatedid === undefined)
      throw apiError('invalid_parameter', 'relatedid', 'send the reply id');
    const indexText = text('index', req.fields.get('index')) ?? '';
    if (!/^\d{1,4}$/.test(indexText)) {
      throw apiError('invalid_parameter', 'index', 'send the attachment index (0 for the first)');
    }
    const found = UUID.test(relatedid)
      ? await findReplyAttachment(db, relatedid.toLowerCase(), Number(indexText))
      : undefined;
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

function text(field: string, value: FormValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  const t = readText(field, value).trim();
  return t === '' ? undefined : t;
}
