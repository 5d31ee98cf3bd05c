import type { Db } from './connect.ts';
import { queryPrepared, type PreparedStatement } from './prepared.ts';
import type { TicketRef } from './tickets.ts';

/**
 * A reply ready to store: every value decided, nothing left to look up but its ticket, which
 * the statement that stores it reads (one round trip per batch instead of a lookup before it).
 */
export interface NewReply {
  replyUid: string;
  dedupeKey: string;
  /** The ticket as the job names it; a reply whose ticket does not exist is not stored. */
  ticket: TicketRef;
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
  /**
   * Who this reply's email notification goes to: the ticket's department, or its requester (its
   * contact, else its client, else the ticket's own address); null when none is sent. The
   * address is read with the ticket; one without an address is not emailed.
   */
  notify: 'department' | 'requester' | null;
  /** The X-Request-Id it arrived with, when its producer gave one. */
  requestId: string | null;
}

export type InsertOutcome = 'inserted' | 'duplicate';

/** An outbox row written with a reply: one notification to deliver. */
export interface OutboxRef {
  outboxId: string;
  channel: 'email' | 'webhook';
  /** A webhook's endpoint, carried in its job so the per-endpoint cap is checked before any read. */
  endpointId: number | null;
}

/** What storing one reply did: a duplicate wrote nothing, so it has no notifications. */
export interface StoreResult {
  outcome: InsertOutcome;
  notifications: OutboxRef[];
}

/** The webhook event every stored reply fires. */
export const REPLY_CREATED_EVENT = 'ticket.reply.created';

/**
 * Stores replies, their attachments, their tickets' status and last reply, the tickets'
 * custom field values and the replies' outbox rows (one per email, one per enabled endpoint
 * subscribed to `ticket.reply.created`) in ONE statement, so atomically. A reply whose dedupe key is already
 * stored (or appears earlier in the same batch) commits nothing and reports 'duplicate': this
 * is the exactly-once guarantee (ARCHITECTURE.md guarantee 2), whatever BullMQ redelivers. A
 * reply whose ticket does not exist commits nothing and answers undefined, as a lookup would,
 * and leaves the rest of the batch to commit. Many replies in one call is the worker's group
 * commit; one failing row fails the whole call.
 *
 * One statement rather than a transaction of several, and the ticket read in it rather than
 * before it: each round trip wakes PostgreSQL on the core the worker shares with it and adds
 * its latency to every job's, and the rows travel as one JSON parameter instead of sixteen
 * bound values each.
 */
export async function insertReplies(
  db: Db,
  replies: readonly NewReply[],
): Promise<Array<StoreResult | undefined>> {
  // Later copies of a dedupe key in the batch are duplicates of the first; only firsts are sent.
  const firsts = new Map<string, number>();
  replies.forEach((reply, i) => {
    if (!firsts.has(reply.dedupeKey)) firsts.set(reply.dedupeKey, i);
  });
  const sent = [...firsts.values()].map((i) => replies[i]!);
  const rows = await queryPrepared<{
    dedupe_key: string;
    ticket_found: boolean;
    outbox_id: string | null;
    channel: OutboxRef['channel'] | null;
    endpoint_id: number | null;
  }>(db, INSERT_REPLIES, [
    toJson(
      sent.map((reply, ord) => ({
        ord,
        ...toRow(reply),
        ticket_status: reply.ticketStatus,
        notify: reply.notify,
      })),
    ),
    toJson(
      sent.flatMap((reply, ord) =>
        reply.attachments.map((a, position) => ({
          ord,
          position,
          stored_name: a.storedName,
          original_name: a.originalName,
          sha256: a.sha256,
        })),
      ),
    ),
    toJson(
      sent.flatMap((reply, ord) =>
        reply.customFields.map((f, i) => ({ ord, i, field_id: f.fieldId, value: f.value })),
      ),
    ),
  ]);
  const inserted = new Map<string, OutboxRef[]>();
  const ticketMissing = new Set<string>();
  for (const row of rows) {
    if (!row.ticket_found) {
      ticketMissing.add(row.dedupe_key);
      continue;
    }
    const refs = inserted.get(row.dedupe_key) ?? [];
    if (row.outbox_id && row.channel) {
      refs.push({ outboxId: row.outbox_id, channel: row.channel, endpointId: row.endpoint_id });
    }
    inserted.set(row.dedupe_key, refs);
  }
  return replies.map((reply, i) => {
    // A later copy shares its first's fate: nothing of either is stored without a ticket.
    if (ticketMissing.has(reply.dedupeKey)) return undefined;
    const notifications = inserted.get(reply.dedupeKey);
    return firsts.get(reply.dedupeKey) === i && notifications
      ? { outcome: 'inserted', notifications }
      : { outcome: 'duplicate', notifications: [] };
  });
}

/**
 * PostgreSQL text cannot hold a lone UTF-16 surrogate; bound as a parameter it became U+FFFD
 * on the way, and in JSON it must too: JSON.stringify writes it as a `\udXXX` escape, which
 * PostgreSQL refuses. Only JSON with such an escape (or a backslash before "ud") is redone.
 */
function toJson(rows: object[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\ud') ? JSON.stringify(rows, wellFormed) : json;
}

function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.toWellFormed() : value;
}

/**
 * The group commit. `input` resolves each reply's ticket (by id or by number) and the address
 * its email goes to (WHMCS: the department for an end-user reply; for a staff reply the
 * ticket's contact, else its client, else the ticket's own address); a reply without a ticket is reported by
 * `ticket_found` and stored nowhere. `stored` is the replies this statement inserted; the rest
 * hang from it. Tickets are locked in id order before they are updated, so concurrent batches
 * touching the same tickets queue instead of deadlocking. Per ticket the last reply of the
 * batch sets the status and the latest creation time the last reply time (a backdated reply
 * never moves it back); per (field, ticket) the last value wins.
 */
const INSERT_REPLIES: PreparedStatement = {
  name: 'ticketflow_insert_replies',
  text: `
WITH input AS (
  SELECT r.*, t.id AS ticket_id,
    CASE r.notify
      WHEN 'department' THEN NULLIF(d.email, '')
      WHEN 'requester' THEN COALESCE(NULLIF(co.email, ''), NULLIF(cl.email, ''), NULLIF(t.email, ''))
    END AS notify_email
  FROM json_to_recordset($1::json) AS r(
    ord int, reply_uid uuid, dedupe_key text, ticket_ref int, ticket_num text, client_id int,
    contact_id int, name text, email text, admin text, message text, message_html text,
    editor reply_editor, created_at timestamptz, source reply_source, source_principal text,
    source_message_id text, received_at timestamptz, ticket_status text, notify text,
    request_id text)
  LEFT JOIN tickets t
    ON t.id = COALESCE(r.ticket_ref, (SELECT id FROM tickets WHERE tid = r.ticket_num))
  LEFT JOIN departments d ON d.id = t.department_id
  LEFT JOIN contacts co ON co.id = t.contact_id
  LEFT JOIN clients cl ON cl.id = t.client_id
), inserted AS (
  INSERT INTO ticket_replies (reply_uid, dedupe_key, ticket_id, client_id, contact_id, name,
    email, admin, message, message_html, editor, created_at, source, source_principal,
    source_message_id, received_at, request_id)
  SELECT reply_uid, dedupe_key, ticket_id, client_id, contact_id, name, email, admin, message,
    message_html, editor, created_at, source, source_principal, source_message_id, received_at,
    request_id
  FROM input WHERE ticket_id IS NOT NULL ORDER BY ord
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id, dedupe_key
), stored AS (
  SELECT input.*, inserted.id FROM inserted JOIN input USING (dedupe_key)
), attachments AS (
  INSERT INTO reply_attachments (reply_id, position, stored_name, original_name, sha256)
  SELECT stored.id, a.position, a.stored_name, a.original_name, a.sha256
  FROM json_to_recordset($2::json) AS a(
    ord int, position int, stored_name text, original_name text, sha256 text)
  JOIN stored USING (ord)
), locked AS MATERIALIZED (
  SELECT id, status FROM tickets WHERE id IN (SELECT ticket_id FROM stored) ORDER BY id
  FOR NO KEY UPDATE
), status_before AS (
  SELECT stored.ord, COALESCE(
    lag(stored.ticket_status) OVER (PARTITION BY stored.ticket_id ORDER BY stored.ord),
    locked.status) AS status
  FROM stored JOIN locked ON locked.id = stored.ticket_id
), outboxed AS (
  INSERT INTO outbox (reply_id, ticket_id, channel, event, recipient, endpoint_id, status_before,
    status_after)
  SELECT stored.id, stored.ticket_id, 'email'::outbox_channel, '${REPLY_CREATED_EVENT}', stored.notify_email, NULL,
    status_before.status, stored.ticket_status
  FROM stored JOIN status_before USING (ord) WHERE stored.notify_email IS NOT NULL
  UNION ALL
  SELECT stored.id, stored.ticket_id, 'webhook'::outbox_channel, '${REPLY_CREATED_EVENT}', NULL, e.id,
    status_before.status, stored.ticket_status
  FROM stored JOIN status_before USING (ord)
  CROSS JOIN webhook_endpoints e
  WHERE e.enabled AND '${REPLY_CREATED_EVENT}' = ANY (e.events)
  RETURNING id, reply_id, channel, endpoint_id
), latest AS (
  SELECT DISTINCT ON (ticket_id) ticket_id, ticket_status,
    max(created_at) OVER (PARTITION BY ticket_id) AS last_reply_at
  FROM stored ORDER BY ticket_id, ord DESC
), tickets_updated AS (
  UPDATE tickets SET status = latest.ticket_status,
    last_reply_at = GREATEST(COALESCE(tickets.last_reply_at, latest.last_reply_at), latest.last_reply_at)
  FROM latest JOIN locked ON locked.id = latest.ticket_id
  WHERE tickets.id = latest.ticket_id
), field_values AS (
  INSERT INTO custom_field_values (field_id, ticket_id, value)
  SELECT DISTINCT ON (f.field_id, stored.ticket_id) f.field_id, stored.ticket_id, f.value
  FROM json_to_recordset($3::json) AS f(ord int, i int, field_id int, value text)
  JOIN stored USING (ord)
  ORDER BY f.field_id, stored.ticket_id, f.ord DESC, f.i DESC
  ON CONFLICT (field_id, ticket_id) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
)
SELECT inserted.dedupe_key, true AS ticket_found, outboxed.id AS outbox_id, outboxed.channel,
  outboxed.endpoint_id
FROM inserted LEFT JOIN outboxed ON outboxed.reply_id = inserted.id
UNION ALL
SELECT dedupe_key, false, NULL, NULL, NULL FROM input WHERE ticket_id IS NULL`,
};

/**
 * One reply in its own transaction (see insertReplies); undefined when its ticket does not
 * exist.
 */
export async function insertReply(db: Db, reply: NewReply): Promise<StoreResult | undefined> {
  try {
    const [result] = await insertReplies(db, [reply]);
    return result;
  } catch (error) {
    if (await isConcurrentDuplicate(db, reply, error))
      return { outcome: 'duplicate', notifications: [] };
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
    ticket_ref: 'id' in reply.ticket ? reply.ticket.id : null,
    ticket_num: 'num' in reply.ticket ? reply.ticket.num : null,
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
    request_id: reply.requestId,
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
