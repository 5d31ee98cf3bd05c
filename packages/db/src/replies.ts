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
 * Stores replies, their attachments, their tickets' status and last reply, and the tickets'
 * custom field values in ONE transaction. A reply whose dedupe key is already stored (or
 * appears earlier in the same batch) commits nothing and reports 'duplicate': this is the
 * exactly-once guarantee (ARCHITECTURE.md guarantee 2), whatever BullMQ redelivers. Many
 * replies in one call is the worker's group commit; one failing row fails the whole call.
 */
export async function insertReplies(
  db: Db,
  replies: readonly NewReply[],
): Promise<InsertOutcome[]> {
  return db.transaction(async (trx) => {
    const rows = await trx('ticket_replies')
      .insert(replies.map(toRow))
      .onConflict('dedupe_key')
      .ignore()
      .returning<{ id: number; dedupe_key: string }[]>(['id', 'dedupe_key']);
    const newIds = new Map(rows.map((r) => [r.dedupe_key, r.id]));
    const stored: Array<{ reply: NewReply; id: number }> = [];
    const outcomes = replies.map((reply): InsertOutcome => {
      const id = newIds.get(reply.dedupeKey);
      if (id === undefined) return 'duplicate';
      newIds.delete(reply.dedupeKey); // a second copy in this batch is a duplicate
      stored.push({ reply, id });
      return 'inserted';
    });
    if (stored.length === 0) return outcomes;

    const attachments = stored.flatMap(({ reply, id }) =>
      reply.attachments.map((a, position) => ({
        reply_id: id,
        position,
        stored_name: a.storedName,
        original_name: a.originalName,
        sha256: a.sha256,
      })),
    );
    if (attachments.length > 0) await trx('reply_attachments').insert(attachments);

    // One update per ticket, in id order so concurrent batches lock tickets in the same order.
    const tickets = new Map<number, { status: string; lastReplyAt: Date }>();
    for (const { reply } of stored) {
      const seen = tickets.get(reply.ticketId);
      tickets.set(reply.ticketId, {
        status: reply.ticketStatus,
        lastReplyAt:
          seen && seen.lastReplyAt > reply.createdAt ? seen.lastReplyAt : reply.createdAt,
      });
    }
    for (const [ticketId, t] of [...tickets].sort(([a], [b]) => a - b)) {
      await trx('tickets')
        .where({ id: ticketId })
        .update({
          status: t.status,
          // A backdated reply (`created`) must not move the ticket's last reply backwards.
          last_reply_at: trx.raw('GREATEST(COALESCE(last_reply_at, ?), ?)', [
            t.lastReplyAt,
            t.lastReplyAt,
          ]),
        });
    }

    // Last value wins per (field, ticket): one upsert may not touch a row twice.
    const values = new Map<string, { field_id: number; ticket_id: number; value: string }>();
    for (const { reply } of stored) {
      for (const f of reply.customFields) {
        values.set(`${f.fieldId}:${reply.ticketId}`, {
          field_id: f.fieldId,
          ticket_id: reply.ticketId,
          value: f.value,
        });
      }
    }
    if (values.size > 0) {
      await trx('custom_field_values')
        .insert([...values.values()])
        .onConflict(['field_id', 'ticket_id'])
        .merge({ value: trx.raw('EXCLUDED.value'), updated_at: trx.fn.now() });
    }
    return outcomes;
  });
}

/** One reply in its own transaction (see insertReplies). */
export async function insertReply(db: Db, reply: NewReply): Promise<InsertOutcome> {
  try {
    const [outcome] = await insertReplies(db, [reply]);
    return outcome!;
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

function toRow(reply: NewReply) {
  return {
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
  };
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
