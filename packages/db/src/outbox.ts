import type { Db } from './connect.ts';
import { listAttachmentFacts, type AttachmentFacts } from './reply-attachments.ts';
import type { OutboxRef } from './replies.ts';

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

/** Reads an outbox row with its reply, ticket and endpoint; undefined once it is gone. */
export async function loadDelivery(db: Db, outboxId: string): Promise<Delivery | undefined> {
  const row = await db('outbox as o')
    .leftJoin('ticket_replies as r', 'r.id', 'o.reply_id')
    .leftJoin('tickets as t', 't.id', 'o.ticket_id')
    .leftJoin('clients as cl', 'cl.id', 'r.client_id')
    .leftJoin('contacts as co', 'co.id', 'r.contact_id')
    .leftJoin('webhook_endpoints as e', 'e.id', 'o.endpoint_id')
    .where('o.id', outboxId)
    .first<DeliveryRow | undefined>(
      'o.id',
      'o.channel',
      'o.event',
      'o.created_at',
      'o.delivered_at',
      'o.failed_at',
      'o.recipient',
      'o.status_before',
      'o.status_after',
      'o.reply_id',
      'r.reply_uid',
      'r.client_id',
      'r.contact_id',
      'r.name',
      'r.email',
      'r.admin',
      'r.message',
      'r.message_html',
      'r.editor',
      'r.created_at as reply_created_at',
      'r.request_id',
      't.id as ticket_id',
      't.tid',
      't.subject',
      'cl.name as client_name',
      'cl.email as client_email',
      'co.name as contact_name',
      'co.email as contact_email',
      'e.id as endpoint_id',
      'e.url',
      'e.secret',
      'e.enabled',
      'e.failing_since',
    );
  if (!row) return undefined;
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
          attachments: await listAttachmentFacts(db, row.reply_id),
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

/**
 * The reply uid of the ticket's email notification before this one, so mail clients thread
 * the new one under it; null for the ticket's first.
 */
export async function previousEmailReply(
  db: Db,
  delivery: Pick<Delivery, 'outboxId' | 'createdAt' | 'ticket'>,
): Promise<string | null> {
  if (!delivery.ticket) return null;
  const row = await db('outbox as o')
    .join('ticket_replies as r', 'r.id', 'o.reply_id')
    .where({ 'o.ticket_id': delivery.ticket.id, 'o.channel': 'email' })
    .whereRaw('(o.created_at, o.id) < (?::timestamptz, ?::uuid)', [
      delivery.createdAt,
      delivery.outboxId,
    ])
    .orderBy([
      { column: 'o.created_at', order: 'desc' },
      { column: 'o.id', order: 'desc' },
    ])
    .first<{ reply_uid: string } | undefined>('r.reply_uid');
  return row?.reply_uid ?? null;
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

/**
 * Records the delivery under the outbox id. False when it was already recorded: the caller is a
 * duplicate job and must not count (or send) it again.
 */
export async function markDelivered(db: Db, outboxId: string, detail: string): Promise<boolean> {
  const updated = await db('outbox')
    .where({ id: outboxId })
    .whereNull('delivered_at')
    .update({ delivered_at: db.fn.now(), failed_at: null, detail });
  return updated > 0;
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
