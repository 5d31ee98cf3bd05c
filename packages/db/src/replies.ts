import type { Db } from './connect.ts';

/** A reply ready to store: every value decided, nothing left to look up. */
export interface NewReply {
  replyUid: string;
  dedupeKey: string;
  ticketId: number;
  clientId: number | null;
  contactId: number | null;
  name: string;
  email: string;
  admin: string;
  message: string;
  messageHtml: string;
  editor: 'markdown' | 'plain';
  createdAt: Date;
  source: 'api' | 'email';
  sourcePrincipal: string;
  sourceMessageId: string | null;
  receivedAt: Date;
  /** The ticket's status after this reply. */
  ticketStatus: string;
  /** Custom field values to upsert on the ticket, already checked against its department. */
  customFields: ReadonlyArray<{ fieldId: number; value: string }>;
  /** Attachments in the order sent; their blobs are already stored. */
  attachments: ReadonlyArray<{ storedName: string; originalName: string; sha256: string }>;
}

export type InsertOutcome = 'inserted' | 'duplicate';

/**
 * Stores a reply, moves its ticket and upserts the ticket's custom field values in ONE
 * transaction. A second call with the same
 * dedupe key commits nothing and reports 'duplicate': this is the exactly-once guarantee
 * (ARCHITECTURE.md guarantee 2), whatever BullMQ redelivers.
 */
export async function insertReply(db: Db, reply: NewReply): Promise<InsertOutcome> {
  try {
    return await insertInTransaction(db, reply);
  } catch (error) {
    if (await isConcurrentDuplicate(db, reply, error)) return 'duplicate';
    throw error;
  }
}

/**
 * Two deliveries of one job (a stalled re-run beside the original, say) can both pass the
 * `ON CONFLICT (dedupe_key)` check before either inserts. The later one then trips the
 * `reply_uid` unique index, which is not an arbiter, and gets 23505 instead of DO NOTHING.
 * Same reply id and dedupe key already committed: that is a duplicate, not a refusal.
 */
async function isConcurrentDuplicate(db: Db, reply: NewReply, error: unknown): Promise<boolean> {
  if ((error as { code?: unknown }).code !== '23505') return false;
  const row = await db('ticket_replies')
    .where({ reply_uid: reply.replyUid, dedupe_key: reply.dedupeKey })
    .first<{ id: number } | undefined>('id');
  return row !== undefined;
}

function insertInTransaction(db: Db, reply: NewReply): Promise<InsertOutcome> {
  return db.transaction(async (trx) => {
    const inserted = await trx('ticket_replies')
      .insert({
        reply_uid: reply.replyUid,
        dedupe_key: reply.dedupeKey,
        ticket_id: reply.ticketId,
        client_id: reply.clientId,
        contact_id: reply.contactId,
        name: reply.name,
        email: reply.email,
        admin: reply.admin,
        message: reply.message,
        message_html: reply.messageHtml,
        editor: reply.editor,
        created_at: reply.createdAt,
        source: reply.source,
        source_principal: reply.sourcePrincipal,
        source_message_id: reply.sourceMessageId,
        received_at: reply.receivedAt,
      })
      .onConflict('dedupe_key')
      .ignore()
      .returning('id');
    if (inserted.length === 0) return 'duplicate';
    const [{ id: replyId }] = inserted as [{ id: number }];
    if (reply.attachments.length > 0) {
      await trx('reply_attachments').insert(
        reply.attachments.map((a, position) => ({
          reply_id: replyId,
          position,
          stored_name: a.storedName,
          original_name: a.originalName,
          sha256: a.sha256,
        })),
      );
    }
    await trx('tickets')
      .where({ id: reply.ticketId })
      .update({
        status: reply.ticketStatus,
        // A backdated reply (`created`) must not move the ticket's last reply backwards.
        last_reply_at: trx.raw('GREATEST(COALESCE(last_reply_at, ?), ?)', [
          reply.createdAt,
          reply.createdAt,
        ]),
      });
    if (reply.customFields.length > 0) {
      await trx('custom_field_values')
        .insert(
          reply.customFields.map((f) => ({
            field_id: f.fieldId,
            ticket_id: reply.ticketId,
            value: f.value,
          })),
        )
        .onConflict(['field_id', 'ticket_id'])
        .merge({ value: trx.raw('EXCLUDED.value'), updated_at: trx.fn.now() });
    }
    return 'inserted';
  });
}

/** A stored reply as get-ticket lists it. */
export interface StoredReply {
  replyUid: string;
  clientId: number | null;
  contactId: number | null;
  name: string;
  email: string;
  admin: string;
  message: string;
  messageHtml: string;
  editor: 'markdown' | 'plain';
  createdAt: Date;
  persistedAt: Date;
  sourcePrincipal: string;
}

export async function listReplies(
  db: Db,
  ticketId: number,
  order: 'asc' | 'desc',
): Promise<StoredReply[]> {
  const rows = await db('ticket_replies')
    .where({ ticket_id: ticketId })
    .orderBy([
      { column: 'created_at', order },
      { column: 'id', order },
    ])
    .select();
  return rows.map(toStoredReply);
}

export async function findReply(
  db: Db,
  replyUid: string,
): Promise<(StoredReply & { ticketId: number }) | undefined> {
  const row = await db('ticket_replies')
    .where({ reply_uid: replyUid })
    .first<Record<string, unknown> | undefined>();
  return row && { ...toStoredReply(row), ticketId: (row as { ticket_id: number }).ticket_id };
}

function toStoredReply(row: Record<string, unknown>): StoredReply {
  return {
    replyUid: row.reply_uid as string,
    clientId: row.client_id as number | null,
    contactId: row.contact_id as number | null,
    name: row.name as string,
    email: row.email as string,
    admin: row.admin as string,
    message: row.message as string,
    messageHtml: row.message_html as string,
    editor: row.editor as 'markdown' | 'plain',
    createdAt: row.created_at as Date,
    persistedAt: row.persisted_at as Date,
    sourcePrincipal: row.source_principal as string,
  };
}
