import type { Db } from './connect.ts';

/** One webhook attempt of a notification. */
export interface NotificationAttempt {
  attemptedAt: Date;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
}

/** One outbox row of a reply, with where it went and how far it got. */
export interface ReplyNotification {
  outboxId: string;
  channel: 'email' | 'webhook';
  event: string;
  /** Email: the address. */
  recipient: string | null;
  /** Webhook: the endpoint (null for email, or once the endpoint was removed). */
  endpoint: { id: number; url: string } | null;
  createdAt: Date;
  dispatchedAt: Date | null;
  deliveredAt: Date | null;
  failedAt: Date | null;
  /** SMTP response, `.eml` path or the last error. */
  detail: string | null;
  /** Webhook attempts, oldest first (none for email). */
  attempts: NotificationAttempt[];
}

/** What PostgreSQL knows of a stored reply: when it arrived, was stored, and its notifications. */
export interface ReplyHistory {
  receivedAt: Date;
  persistedAt: Date;
  notifications: ReplyNotification[];
}

/** A stored reply's history for `ticketflow reply`; undefined when no reply has this id. */
export async function readReplyHistory(
  db: Db,
  replyUid: string,
): Promise<ReplyHistory | undefined> {
  const reply = await db('ticket_replies')
    .where({ reply_uid: replyUid })
    .first<{ id: number; received_at: Date; persisted_at: Date } | undefined>(
      'id',
      'received_at',
      'persisted_at',
    );
  if (!reply) return undefined;
  const rows = await db('outbox as o')
    .leftJoin('webhook_endpoints as e', 'e.id', 'o.endpoint_id')
    .where('o.reply_id', reply.id)
    .orderBy([
      { column: 'o.created_at', order: 'asc' },
      { column: 'o.id', order: 'asc' },
    ])
    .select<OutboxRow[]>(
      'o.id',
      'o.channel',
      'o.event',
      'o.recipient',
      'o.created_at',
      'o.dispatched_at',
      'o.delivered_at',
      'o.failed_at',
      'o.detail',
      'e.id as endpoint_id',
      'e.url',
    );
  const attempts =
    rows.length === 0
      ? []
      : await db('webhook_attempts')
          .whereIn(
            'outbox_id',
            rows.map((r) => r.id),
          )
          .orderBy([
            { column: 'attempted_at', order: 'asc' },
            { column: 'id', order: 'asc' },
          ])
          .select<AttemptRow[]>('outbox_id', 'attempted_at', 'http_status', 'duration_ms', 'error');
  return {
    receivedAt: reply.received_at,
    persistedAt: reply.persisted_at,
    notifications: rows.map((r) => ({
      outboxId: r.id,
      channel: r.channel,
      event: r.event,
      recipient: r.recipient,
      endpoint: r.endpoint_id !== null ? { id: r.endpoint_id, url: r.url ?? '' } : null,
      createdAt: r.created_at,
      dispatchedAt: r.dispatched_at,
      deliveredAt: r.delivered_at,
      failedAt: r.failed_at,
      detail: r.detail,
      attempts: attempts
        .filter((a) => a.outbox_id === r.id)
        .map((a) => ({
          attemptedAt: a.attempted_at,
          httpStatus: a.http_status,
          durationMs: a.duration_ms,
          error: a.error,
        })),
    })),
  };
}

interface OutboxRow {
  id: string;
  channel: 'email' | 'webhook';
  event: string;
  recipient: string | null;
  created_at: Date;
  dispatched_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
  detail: string | null;
  endpoint_id: number | null;
  url: string | null;
}

interface AttemptRow {
  outbox_id: string;
  attempted_at: Date;
  http_status: number | null;
  duration_ms: number;
  error: string | null;
}
