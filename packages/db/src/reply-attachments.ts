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

/** A stored reply's attachments in the order sent, with their blobs' size and type. */
export async function listAttachmentFacts(db: Db, replyId: number): Promise<AttachmentFacts[]> {
  const rows = await db('reply_attachments as a')
    .join('attachment_blobs as b', 'b.sha256', 'a.sha256')
    .where('a.reply_id', replyId)
    .orderBy('a.position')
    .select<{ stored_name: string; size: string; sha256: string; content_type: string }[]>(
      'a.stored_name',
      'b.size',
      'a.sha256',
      'b.content_type',
    );
  return rows.map((r) => ({
    name: displayName(r.stored_name),
    // bigint comes back as a string from pg; attachment sizes are far below 2^53.
    size: Number(r.size),
    sha256: r.sha256,
    contentType: r.content_type,
  }));
}
