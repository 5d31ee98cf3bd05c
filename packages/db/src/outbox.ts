import type { Db } from './connect.ts';
import { allOk, batchCalls, eachOnFailure } from '@ticketflow/batch';
import { queryPrepared, type PreparedStatement } from './prepared.ts';
import { attachmentFacts, type AttachmentFacts } from './reply-attachments.ts';
import type { OutboxRef } from './replies.ts';
import type { WebhookAttemptRecord } from './webhook-endpoints.ts';

/** The reply a notification tells of, as email and webhook bodies need it. */
export interface NotifiedReply {
  id: number;
  uid: string;
  author:
    | { type: 'client'; clientid: number; name: string; email: string }
    | { type: 'contact'; clientid: number; contactid: number; name: string; email: string }
    | { type: 'guest'; name: string; email: string }
    | { type: 'staff'; name: string };
  message: string;
  messageHtml: string;
  markdown: boolean;
  createdAt: Date;
  attachments: AttachmentFacts[];
  /** The X-Request-Id the reply arrived with, for log lines (never sent to receivers). */
  requestId: string | null;
}

/** Everything one outbox row's delivery needs, read in one place when it is sent. */
export interface Delivery {
  outboxId: string;
  channel: 'email' | 'webhook';
  event: string;
  createdAt: Date;
  deliveredAt: Date | null;
  failedAt: Date | null;
  /** Email: the address. */
  recipient: string | null;
  /** Email: the reply uid of the ticket's previous email notification (threading), or null. */
  previousEmailReplyUid: string | null;
  ticket: {
    id: number;
    tid: string;
    subject: string;
    statusBefore: string;
    statusAfter: string;
  } | null;
  reply: NotifiedReply | null;
  endpoint: {
    id: number;
    url: string;
    secret: string;
    enabled: boolean;
    failingSince: Date | null;
  } | null;
}

/**
 * Outbox rows with all their delivery reads: the reply, its author and attachments, the
 * ticket, the endpoint, and for email the reply uid of the ticket's previous email notification
 * (mail clients thread the new one under it; the index `outbox_ticket_email_order` finds it in
 * one step however long the ticket). Every delivery runs it, so it is one prepared statement,
 * and concurrent deliveries share it (createDeliveryStore).
 */
const LOAD_DELIVERIES: PreparedStatement = {
  name: 'tf_load_deliveries',
  text: `
    SELECT o.id, o.channel, o.event, o.created_at, o.delivered_at, o.failed_at, o.recipient,
           o.status_before, o.status_after, o.reply_id,
           r.reply_uid, r.client_id, r.contact_id, r.name, r.email, r.admin, r.message,
           r.message_html, r.editor, r.created_at AS reply_created_at, r.request_id,
           t.id AS ticket_id, t.tid, t.subject,
           cl.name AS client_name, cl.email AS client_email,
           co.name AS contact_name, co.email AS contact_email,
           e.id AS endpoint_id, e.url, e.secret, e.enabled, e.failing_since,
           (SELECT coalesce(json_agg(json_build_object(
                     'stored_name', a.stored_name, 'size', b.size,
                     'sha256', a.sha256, 'content_type', b.content_type) ORDER BY a.position), '[]')
              FROM reply_attachments a JOIN attachment_blobs b ON b.sha256 = a.sha256
             WHERE a.reply_id = o.reply_id) AS attachments,
           CASE WHEN o.channel = 'email' THEN (
             SELECT pr.reply_uid
               FROM outbox p JOIN ticket_replies pr ON pr.id = p.reply_id
              WHERE p.ticket_id = o.ticket_id AND p.channel = 'email'
                AND (p.created_at, p.id) < (o.created_at, o.id)
              ORDER BY p.created_at DESC, p.id DESC
              LIMIT 1)
           END AS previous_email_reply_uid
      FROM outbox o
      LEFT JOIN ticket_replies r ON r.id = o.reply_id
      LEFT JOIN tickets t ON t.id = o.ticket_id
      LEFT JOIN clients cl ON cl.id = r.client_id
      LEFT JOIN contacts co ON co.id = r.contact_id
      LEFT JOIN webhook_endpoints e ON e.id = o.endpoint_id
     WHERE o.id = ANY($1::uuid[])`,
};

/** Reads outbox rows with their replies, tickets and endpoints, in the order asked; undefined for a row gone. */
export async function loadDeliveries(
  db: Db,
  outboxIds: readonly string[],
): Promise<Array<Delivery | undefined>> {
  const rows = await queryPrepared<DeliveryRow>(db, LOAD_DELIVERIES, [outboxIds]);
  const byId = new Map(rows.map((row) => [row.id, deliveryOf(row)]));
  return outboxIds.map((id) => byId.get(id));
}

function deliveryOf(row: DeliveryRow): Delivery {
  const reply =
    row.reply_id !== null && row.reply_uid !== null
      ? {
          id: row.reply_id,
          uid: row.reply_uid,
          author: authorOf(row),
          message: row.message ?? '',
          messageHtml: row.message_html ?? '',
          markdown: row.editor === 'markdown',
          createdAt: row.reply_created_at!,
          attachments: row.attachments.map(attachmentFacts),
          requestId: row.request_id,
        }
      : null;
  return {
    outboxId: row.id,
    channel: row.channel,
    event: row.event,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    failedAt: row.failed_at,
    recipient: row.recipient,
    previousEmailReplyUid: row.previous_email_reply_uid,
    ticket:
      row.ticket_id !== null
        ? {
            id: row.ticket_id,
            tid: row.tid ?? '',
            subject: row.subject ?? '',
            statusBefore: row.status_before ?? '',
            statusAfter: row.status_after ?? '',
          }
        : null,
    reply,
    endpoint:
      row.endpoint_id !== null
        ? {
            id: row.endpoint_id,
            url: row.url ?? '',
            secret: row.secret ?? '',
            enabled: row.enabled ?? false,
            failingSince: row.failing_since,
          }
        : null,
  };
}

/** Notes that these rows' jobs are in Redis, so the sweeper leaves them alone. */
export async function markDispatched(db: Db, outboxIds: readonly string[]): Promise<void> {
  if (outboxIds.length === 0) return;
  await db('outbox')
    .whereIn('id', outboxIds)
    .whereNull('dispatched_at')
    .update({ dispatched_at: db.fn.now() });
}

/** Rows whose job was never enqueued and that are older than `olderThanMs`, oldest first. */
export async function findUndispatched(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<OutboxRef[]> {
  const rows = await db('outbox')
    .whereNull('dispatched_at')
    .where('created_at', '<', new Date(Date.now() - olderThanMs))
    .orderBy('created_at')
    .limit(limit)
    .select<{ id: string; channel: 'email' | 'webhook'; endpoint_id: number | null }[]>(
      'id',
      'channel',
      'endpoint_id',
    );
  return rows.map((r) => ({ outboxId: r.id, channel: r.channel, endpointId: r.endpoint_id }));
}

/** What a sent notification records: its outcome, and for a webhook the attempt that did it. */
export interface DeliveryRecord {
  outboxId: string;
  /** SMTP response line, `.eml` path or `HTTP 200`. */
  detail: string;
  attempt?: Omit<WebhookAttemptRecord, 'outboxId'>;
}

/**
 * Records sent notifications in one statement: each webhook's attempt, its endpoint's failure
 * streak ended, and every row delivered (where it was not yet). Returns the rows it marked.
 */
const RECORD_DELIVERIES: PreparedStatement = {
  name: 'tf_record_deliveries',
  text: `
    WITH input AS (
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::int[],
                           $7::text[])
        AS i(outbox_id, detail, endpoint_id, webhook_id, http_status, duration_ms, error)
    ), attempts AS (
      INSERT INTO webhook_attempts
        (outbox_id, endpoint_id, webhook_id, http_status, duration_ms, error)
      SELECT outbox_id, endpoint_id, webhook_id, http_status, duration_ms, error
        FROM input WHERE endpoint_id IS NOT NULL
    ), healed AS (
      UPDATE webhook_endpoints e SET failing_since = NULL
        FROM input
       WHERE e.id = input.endpoint_id AND e.failing_since IS NOT NULL
    )
    UPDATE outbox o SET delivered_at = now(), failed_at = NULL, detail = input.detail
      FROM input
     WHERE o.id = input.outbox_id AND o.delivered_at IS NULL
    RETURNING o.id`,
};

/**
 * Records sent notifications under their outbox ids. Per record, false when the delivery was
 * already recorded (the attempt is recorded either way): the caller is a duplicate job and must
 * not count it again. Of two records of one row in the same call, the first is the delivery.
 */
export async function recordDeliveries(
  db: Db,
  records: readonly DeliveryRecord[],
): Promise<boolean[]> {
  const rows = await queryPrepared<{ id: string }>(db, RECORD_DELIVERIES, [
    records.map((r) => r.outboxId),
    records.map((r) => r.detail),
    records.map((r) => r.attempt?.endpointId ?? null),
    records.map((r) => r.attempt?.webhookId ?? null),
    records.map((r) => r.attempt?.httpStatus ?? null),
    records.map((r) => r.attempt?.durationMs ?? null),
    records.map((r) => r.attempt?.error ?? null),
  ]);
  const marked = new Set(rows.map((row) => row.id));
  return records.map((r) => marked.delete(r.outboxId));
}

/** The reads and records of deliveries, with concurrent calls sharing one statement each. */
export interface DeliveryStore {
  load(outboxId: string): Promise<Delivery | undefined>;
  record(record: DeliveryRecord): Promise<boolean>;
}

/**
 * loadDeliveries and recordDeliveries for a busy worker: the deliveries running at once share
 * one read and one commit (a group commit, as replies have), so a delivery costs PostgreSQL a
 * share of two statements instead of two of its own.
 */
export function createDeliveryStore(db: Db): DeliveryStore {
  return {
    load: batchCalls(async (ids: string[]) => allOk(await loadDeliveries(db, ids))),
    // A record a constraint refuses (its endpoint or reply deleted meanwhile) must not fail,
    // and so re-send, the deliveries that shared its statement.
    record: batchCalls(
      eachOnFailure<DeliveryRecord, boolean>(
        (records) => recordDeliveries(db, records),
        async (record) => (await recordDeliveries(db, [record]))[0]!,
      ),
    ),
  };
}

/** Records the final failure of a row's delivery (its job is dead-lettered). */
export async function markDeliveryFailed(db: Db, outboxId: string, detail: string): Promise<void> {
  await db('outbox')
    .where({ id: outboxId })
    .whereNull('delivered_at')
    .update({ failed_at: db.fn.now(), detail });
}

/**
 * Clears a row's final failure before its dead letter is replayed, so the outbox reads as
 * pending again while the new job runs. A delivered row stays as it is: its job sends nothing.
 */
export async function reopenDelivery(db: Db, outboxId: string): Promise<void> {
  await db('outbox').where({ id: outboxId }).whereNull('delivered_at').update({ failed_at: null });
}

/** A `webhook.test` event for one endpoint, outside any reply. */
export async function insertTestEvent(db: Db, endpointId: number): Promise<string> {
  const [row] = await db('outbox')
    .insert({ channel: 'webhook', event: 'webhook.test', endpoint_id: endpointId })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

interface DeliveryRow {
  id: string;
  channel: 'email' | 'webhook';
  event: string;
  created_at: Date;
  delivered_at: Date | null;
  failed_at: Date | null;
  recipient: string | null;
  status_before: string | null;
  status_after: string | null;
  reply_id: number | null;
  reply_uid: string | null;
  client_id: number | null;
  contact_id: number | null;
  name: string | null;
  email: string | null;
  admin: string | null;
  message: string | null;
  message_html: string | null;
  editor: 'markdown' | 'plain' | null;
  reply_created_at: Date | null;
  request_id: string | null;
  ticket_id: number | null;
  tid: string | null;
  subject: string | null;
  client_name: string | null;
  client_email: string | null;
  contact_name: string | null;
  contact_email: string | null;
  endpoint_id: number | null;
  url: string | null;
  secret: string | null;
  enabled: boolean | null;
  failing_since: Date | null;
  attachments: AttachmentRow[];
  previous_email_reply_uid: string | null;
}

/** An attachment as json_build_object gives it: `size` is a bigint, a JSON number here. */
interface AttachmentRow {
  stored_name: string;
  size: number;
  sha256: string;
  content_type: string;
}

function authorOf(row: DeliveryRow): NotifiedReply['author'] {
  if (row.admin) return { type: 'staff', name: row.admin };
  if (row.client_id !== null && row.contact_id !== null) {
    return {
      type: 'contact',
      clientid: row.client_id,
      contactid: row.contact_id,
      name: row.contact_name ?? '',
      email: row.contact_email ?? '',
    };
  }
  if (row.client_id !== null) {
    return {
      type: 'client',
      clientid: row.client_id,
      name: row.client_name ?? '',
      email: row.client_email ?? '',
    };
  }
  return { type: 'guest', name: row.name ?? '', email: row.email ?? '' };
}
