import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { WEBHOOK_JOB, notificationJobId } from '@ticketflow/contract';
import { REPLY_CREATED_EVENT } from '@ticketflow/db';
import { jobCatalog, jobOptions } from '@ticketflow/queue';
import { MESSAGE, MESSAGE_HTML } from './payloads.ts';
import { sleep } from './processes.ts';
import { PRODUCT_DEFAULTS, type BenchStack } from './stack.ts';

/** The product's `webhook` job: attempts on the Svix schedule, the catalog's retention. */
const WEBHOOK = jobCatalog(PRODUCT_DEFAULTS).notifications.jobs[WEBHOOK_JOB];
const FILL_BATCH = 1000;
/** Client replies set this status, before and after (the seeded ticket has had many). */
const STATUS = 'Customer-Reply';

/**
 * Stores `count` client replies on the seeded ticket, each with the one webhook outbox row the
 * reply statement writes for `endpointId`, in one statement, and answers the outbox ids. The
 * rows are marked dispatched, as the worker's dispatcher marks them, so the outbox sweep leaves
 * them to the jobs {@link fillWebhookJobs} adds.
 */
export async function insertWebhookDeliveries(
  stack: BenchStack,
  endpointId: number,
  count: number,
): Promise<string[]> {
  const { ticketId, clientId } = stack.seed;
  const result = await stack.db.raw<{ rows: Array<{ id: string }> }>(
    `WITH replies AS (
      INSERT INTO ticket_replies (reply_uid, dedupe_key, ticket_id, client_id, message,
        message_html, editor, created_at, source, source_principal, received_at)
      SELECT uid, uid::text, ?, ?, ?, ?, 'markdown', now(), 'api', 'bench-client', now()
      FROM (SELECT gen_random_uuid() AS uid FROM generate_series(1, CAST(? AS int))) AS g
      RETURNING id
    )
    INSERT INTO outbox (reply_id, ticket_id, channel, event, endpoint_id, status_before,
      status_after, dispatched_at)
    SELECT id, ?, 'webhook', ?, ?, ?, ?, now() FROM replies
    RETURNING id`,
    [
      ticketId,
      clientId,
      MESSAGE,
      MESSAGE_HTML,
      count,
      ticketId,
      REPLY_CREATED_EVENT,
      endpointId,
      STATUS,
      STATUS,
    ],
  );
  return result.rows.map((r) => r.id);
}

/** One `webhook` job per outbox row, exactly as apps/worker's dispatcher adds them. */
export async function fillWebhookJobs(
  queue: Queue,
  endpointId: number,
  outboxIds: readonly string[],
): Promise<void> {
  for (let done = 0; done < outboxIds.length; done += FILL_BATCH) {
    await queue.addBulk(
      outboxIds.slice(done, done + FILL_BATCH).map((outboxId) => ({
        name: WEBHOOK.name,
        data: { v: 1, outboxId, endpointId },
        opts: jobOptions(WEBHOOK, notificationJobId(outboxId)),
      })),
    );
  }
}

/**
 * The same deliveries for baseline (w): each job's data is the event body a user's own code
 * would have built when it enqueued (the shape and values of Ticketflow's `ticket.reply.created`
 * for the seeded ticket), its id the `webhook-id`. The product's retention and attempts;
 * exponential backoff from the schedule's first delay, as BullMQ has no Svix schedule built in.
 */
export async function fillBaselineWebhookJobs(
  queue: Queue,
  stack: BenchStack,
  count: number,
): Promise<void> {
  const ticket = await stack
    .db('tickets as t')
    .join('clients as c', 'c.id', 't.client_id')
    .where('t.id', stack.seed.ticketId)
    .first<{ tid: string; subject: string; name: string; email: string }>(
      't.tid',
      't.subject',
      'c.name',
      'c.email',
    );
  const options = {
    ...WEBHOOK.options,
    backoff: { type: 'exponential', delay: PRODUCT_DEFAULTS.webhooks.scheduleMs[0] ?? 5000 },
  };
  for (let done = 0; done < count; done += FILL_BATCH) {
    const jobs = Array.from({ length: Math.min(FILL_BATCH, count - done) }, () => {
      const replyid = randomUUID();
      const now = new Date().toISOString();
      return {
        name: WEBHOOK.name,
        data: {
          type: REPLY_CREATED_EVENT,
          timestamp: now,
          data: {
            replyid,
            ticket: {
              id: stack.seed.ticketId,
              tid: ticket.tid,
              subject: ticket.subject,
              status: { old: STATUS, new: STATUS },
            },
            author: {
              type: 'client',
              clientid: stack.seed.clientId,
              name: ticket.name,
              email: ticket.email,
            },
            message: MESSAGE,
            markdown: true,
            messagehtml: MESSAGE_HTML,
            created: now,
            attachments: [],
          },
        },
        opts: { ...options, jobId: `msg_${replyid.replaceAll('-', '')}` },
      };
    });
    await queue.addBulk(jobs);
  }
}

/**
 * Checks, outside the timed window, that every row is recorded delivered after exactly one
 * attempt: a retry inside the measurement would have made it about the retry schedule.
 */
export async function confirmDelivered(
  stack: BenchStack,
  outboxIds: readonly string[],
  label: string,
): Promise<void> {
  // One array parameter, however many rows (PostgreSQL takes at most 65 535 bind values).
  const ids = `{${outboxIds.join(',')}}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await stack.db.raw<{ rows: Array<{ delivered: string; attempts: string }> }>(
      `SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
        (SELECT count(*) FROM webhook_attempts WHERE outbox_id = ANY(CAST(? AS uuid[]))) AS attempts
      FROM outbox WHERE id = ANY(CAST(? AS uuid[]))`,
      [ids, ids],
    );
    const delivered = Number(rows[0]?.delivered);
    const attempts = Number(rows[0]?.attempts);
    if (delivered === outboxIds.length) {
      if (attempts === delivered) return;
      throw new Error(`${label}: ${attempts} attempts for ${delivered} deliveries`);
    }
    // The worker records a delivery just after the receiver has answered.
    if (Date.now() > deadline) {
      throw new Error(`${label}: ${delivered} of ${outboxIds.length} outbox rows delivered`);
    }
    await sleep(50);
  }
}
