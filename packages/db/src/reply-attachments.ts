import type { Db } from './connect.ts';

/** An attachment as get-ticket lists it: display name and index, in the order sent. */
export interface ListedAttachment {
  replyUid: string;
  index: number;
  filename: string;
}

/** The attachments of every reply of a ticket, in one query. */
export async function listTicketAttachments(db: Db, ticketId: number): Promise<ListedAttachment[]> {
  const rows = await db('reply_attachments as a')
    .join('ticket_replies as r', 'r.id', 'a.reply_id')
    .where('r.ticket_id', ticketId)
    .orderBy([{ column: 'a.reply_id' }, { column: 'a.position' }])
    .select<{ reply_uid: string; position: number; stored_name: string }[]>(
      'r.reply_uid',
      'a.position',
      'a.stored_name',
    );
  return rows.map((r) => ({
    replyUid: r.reply_uid,
    index: r.position,
    filename: displayName(r.stored_name),
  }));
}

/** One attachment of a reply by index, with the ticket it belongs to (for the access check). */
export async function findReplyAttachment(
  db: Db,
  replyUid: string,
  index: number,
): Promise<{ ticketId: number; storedName: string; sha256: string } | undefined> {
  const row = await db('reply_attachments as a')
    .join('ticket_replies as r', 'r.id', 'a.reply_id')
    .where({ 'r.reply_uid': replyUid, 'a.position': index })
    .first<{ ticket_id: number; stored_name: string; sha256: string } | undefined>(
      'r.ticket_id',
      'a.stored_name',
      'a.sha256',
    );
  return row && { ticketId: row.ticket_id, storedName: row.stored_name, sha256: row.sha256 };
}

/** WHMCS shows a stored `NNNNNN_name` without its seven-character prefix. */
function displayName(storedName: string): string {
  return /^\d{6}_/.test(storedName) ? storedName.slice(7) : storedName;
}

/** An attachment as a webhook describes it: never the bytes. */
export interface AttachmentFacts {
  name: string;
  size: number;
  sha256: string;
  contentType: string;
}

/** An attachment row with its blob's size and type, as a webhook describes it. */
export function attachmentFacts(row: {
  stored_name: string;
  size: number;
  sha256: string;
  content_type: string;
}): AttachmentFacts {
  return {
    name: displayName(row.stored_name),
    size: row.size,
    sha256: row.sha256,
    contentType: row.content_type,
  };
}
