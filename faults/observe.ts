import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '@ticketflow/db';
import type { SmtpPeer, WebhookReceiver } from '@ticketflow/testing/peers';
import { markerOf } from './requests.ts';

/** A stored reply of the load, found by the marker its message starts with. */
export interface PersistedRow {
  marker: string;
  replyUid: string;
  /** When its transaction ran (PostgreSQL's clock: the same machine's). */
  persistedAt: number;
}

/** Every reply stored for the requests whose markers start with `prefix`. */
export async function readPersisted(db: Db, prefix: string): Promise<PersistedRow[]> {
  const rows = await db('ticket_replies')
    .whereRaw('starts_with(message, ?)', [prefix])
    .select<Array<{ reply_uid: string; message: string; persisted_at: Date }>>(
      'reply_uid',
      'message',
      'persisted_at',
    );
  return rows.map((r) => ({
    marker: markerOf(r.message),
    replyUid: r.reply_uid,
    persistedAt: r.persisted_at.getTime(),
  }));
}

/** One notification a peer received, under the id receivers dedupe by. */
export interface Delivery {
  channel: 'email' | 'webhook';
  /** Message-ID of an email, `webhook-id` of a webhook. */
  id: string;
  replyUid: string;
}

/**
 * Everything the SMTP peer accepted and every webhook the receiver answered 2xx, so far (it
 * answers every POST it gets 200; while it is down, none arrive).
 */
export function readDeliveries(smtp: SmtpPeer, hooks: WebhookReceiver): Delivery[] {
  const emails = smtp.received.map((mail) => ({
    channel: 'email' as const,
    id: mail.header('message-id') ?? '',
    replyUid: mail.header('x-ticketflow-reply-id') ?? '',
  }));
  const webhooks = hooks.accepted().map((hook) => ({
    channel: 'webhook' as const,
    id: hook.id,
    replyUid: (JSON.parse(hook.body) as { data?: { replyid?: string } }).data?.replyid ?? '',
  }));
  return [...emails, ...webhooks];
}

/** When each accepted webhook arrived (ms since the epoch). */
export function webhookArrivals(hooks: WebhookReceiver): number[] {
  return hooks.accepted().map((hook) => hook.at);
}

/** Jobs per state of every catalog queue. */
export type QueueCounts = Record<string, Record<string, number>>;

const STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;

export async function readQueueCounts(queues: readonly Queue[]): Promise<QueueCounts> {
  const entries = await Promise.all(
    queues.map(async (q) => [q.name, await q.getJobCounts(...STATES)] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * Jobs BullMQ found stalled (their worker's lock lapsed: killed or frozen) and moved back to be
 * run again, per queue, since `sinceMs`, read from each queue's event stream. The stream is capped
 * at about 10 000 entries, a few per job, so after a long phase this is a floor, for the record
 * (phase 6 checks its frozen jobs one by one).
 */
export async function countStalledJobs(
  redis: Redis,
  queues: readonly Queue[],
  sinceMs: number,
): Promise<Record<string, number>> {
  const entries = await Promise.all(
    queues.map(async (q) => {
      const events = await redis.xrange(q.keys.events!, String(sinceMs), '+');
      const stalled = events.filter(
        ([, fields]) => fields[0] === 'event' && fields[1] === 'stalled',
      );
      return [q.name, stalled.length] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** Outbox rows neither delivered nor failed: notifications still owed. */
export async function countOwedNotifications(db: Db): Promise<number> {
  const [row] = await db('outbox')
    .whereNull('delivered_at')
    .whereNull('failed_at')
    .count<Array<{ count: string }>>('* as count');
  return Number(row!.count);
}

/** A dead letter: a job that gave up, or that BullMQ failed (the maintenance reconciler's row). */
export interface DeadLetterSummary {
  id: number;
  queue: string;
  jobId: string;
  reason: string | null;
  error: string;
}

/** The newest dead letter's id (0: none yet), to read a phase's own afterwards. */
export async function lastDeadLetterId(db: Db): Promise<number> {
  const [row] = await db('dead_letters').max<Array<{ max: number | null }>>('id as max');
  return row?.max ?? 0;
}

/** Dead letters with an id above `afterId`. */
export async function readDeadLetters(db: Db, afterId: number): Promise<DeadLetterSummary[]> {
  const rows = await db('dead_letters')
    .where('id', '>', afterId)
    .orderBy('id')
    .select<
      Array<{ id: number; queue: string; job_id: string; reason: string | null; error: string }>
    >('id', 'queue', 'job_id', 'reason', 'error');
  return rows.map((r) => ({
    id: r.id,
    queue: r.queue,
    jobId: r.job_id,
    reason: r.reason,
    error: r.error.slice(0, 200),
  }));
}
