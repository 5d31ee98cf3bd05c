import { DelayedError, type Job } from 'bullmq';
import { randomInt } from 'node:crypto';
import { notificationMessageId, readNotificationJob, ticketThreadId } from '@ticketflow/contract';
import {
  createDeliveryStore,
  noteEndpointFailure,
  recordWebhookAttempt,
  setWebhookEndpointEnabled,
  type Db,
  type Delivery,
  type DeliveryStore,
} from '@ticketflow/db';
import { FinalJobError } from '@ticketflow/queue';
import { describeSmtpFailure, isPermanentSmtpFailure } from './email/classify-smtp-error.ts';
import { composeNotificationEmail } from './email/compose-notification-email.ts';
import type { MailSender } from './email/mail-sender.ts';
import { recordAfterSend } from './record-after-send.ts';
import { classifyWebhookAttempt } from './webhooks/classify-webhook-attempt.ts';
import type { EndpointLimiter } from './webhooks/endpoint-limiter.ts';
import { postWebhook } from './webhooks/post-webhook.ts';
import { webhookHeaders } from './webhooks/sign-webhook.ts';
import { checkWebhookUrl } from './webhooks/webhook-address.ts';
import { webhookEvent, webhookId } from './webhooks/webhook-event.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface NotificationProcessorDeps {
  db: Db;
  mail: MailSender;
  mailFrom: string;
  /** Domain and HMAC key of notification Message-IDs. */
  messageIds: { domain: string; secret: string };
  webhooks: { timeoutMs: number; allowPrivate: boolean; disableAfterMs: number };
  limiter: EndpointLimiter;
  /** Counts each webhook attempt by its verdict (metrics on). */
  metrics?: Pick<WorkerMetrics, 'webhookAttempt'>;
}

export interface NotificationResult {
  outboxId: string;
  /** `duplicate`: another job recorded this row's delivery first; `gone`: the row was deleted. */
  outcome: 'delivered' | 'duplicate' | 'gone';
  detail?: string;
  /** The X-Request-Id its reply arrived with, for the delivery's log line. */
  requestId?: string;
}

/** A transient delivery failure; `retryAfterMs` (a 429's Retry-After) bounds the next delay. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Delivers one outbox row. The row is read when it is sent, so a job the sweeper enqueued
 * again is the same delivery; a row already delivered sends nothing (guarantee 4). A send and
 * its record are two steps: a crash between them sends again, which the stable Message-ID and
 * `webhook-id` let receivers recognise (a record that fails on its own is retried first:
 * record-after-send.ts).
 */
export function createNotificationProcessor(deps: NotificationProcessorDeps) {
  const store = createDeliveryStore(deps.db);
  return async function processNotification(job: Job, token?: string): Promise<NotificationResult> {
    const data = readNotificationJob(job.data);
    if (!data) throw new FinalJobError('invalid_job', 'invalid notification job');
    // A webhook job names its endpoint: over the endpoint's cap it goes back to the queue before
    // anything is read, so a slow endpoint's backlog costs no queries.
    let slot =
      data.endpointId === undefined ? undefined : await takeSlot(deps, data.endpointId, job, token);
    try {
      const delivery = await store.load(data.outboxId);
      if (!delivery) return { outboxId: data.outboxId, outcome: 'gone' };
      if (delivery.deliveredAt) return { outboxId: data.outboxId, outcome: 'duplicate' };
      let result: NotificationResult;
      if (delivery.channel === 'email') {
        result = await sendEmail(deps, store, delivery);
      } else {
        // A job enqueued before jobs named their endpoint takes its place only now.
        slot ??= await takeSlot(deps, delivery.endpoint?.id, job, token);
        result = await sendWebhook(deps, store, delivery, slot);
      }
      const requestId = delivery.reply?.requestId;
      return requestId ? { ...result, requestId } : result;
    } finally {
      slot?.release();
    }
  };
}

/** A held place in an endpoint's in-flight cap; release is idempotent. */
interface Slot {
  release(): void;
}

/** How long a job over its endpoint's cap waits before it asks again (ms, with jitter). */
const OVER_CAP_DELAY_MS = 200;

/**
 * Takes a place in the endpoint's cap, or moves the job back to delayed for a moment (not an
 * attempt: attempts stay as they are) by throwing BullMQ's DelayedError.
 */
async function takeSlot(
  deps: NotificationProcessorDeps,
  endpointId: number | undefined,
  job: Job,
  token: string | undefined,
): Promise<Slot> {
  if (endpointId === undefined) return { release: () => {} };
  if (!deps.limiter.tryAcquire(endpointId)) {
    await job.moveToDelayed(Date.now() + OVER_CAP_DELAY_MS + randomInt(OVER_CAP_DELAY_MS), token);
    throw new DelayedError();
  }
  let held = true;
  return {
    release: () => {
      if (held) deps.limiter.release(endpointId);
      held = false;
    },
  };
}

async function sendEmail(
  deps: NotificationProcessorDeps,
  store: DeliveryStore,
  d: Delivery,
): Promise<NotificationResult> {
  const { reply, ticket } = d;
  if (!reply || !ticket || !d.recipient) {
    throw new FinalJobError('invalid_job', `outbox row ${d.outboxId} has no reply to tell of`);
  }
  const { domain, secret } = deps.messageIds;
  const previous = d.previousEmailReplyUid;
  let message;
  try {
    message = composeNotificationEmail({
      from: deps.mailFrom,
      to: d.recipient,
      tid: ticket.tid,
      subject: ticket.subject,
      text: reply.message,
      html: reply.messageHtml,
      authorName: reply.author.name,
      replyUid: reply.uid,
      messageId: notificationMessageId(
        { ticketId: ticket.id, replyUid: reply.uid },
        secret,
        domain,
      ),
      threadId: ticketThreadId(ticket.id, secret, domain),
      ...(previous
        ? {
            inReplyTo: notificationMessageId(
              { ticketId: ticket.id, replyUid: previous },
              secret,
              domain,
            ),
          }
        : {}),
    });
  } catch (error) {
    // An address that is not one mailbox: no retry makes it one.
    throw new FinalJobError('delivery_refused', (error as Error).message);
  }
  let sent;
  try {
    sent = await deps.mail.send(message);
  } catch (error) {
    const reason = describeSmtpFailure(error);
    if (isPermanentSmtpFailure(error)) throw new FinalJobError('delivery_refused', reason);
    throw new RetryLaterError(reason);
  }
  const recorded = await recordAfterSend(() =>
    store.record({ outboxId: d.outboxId, detail: sent.detail }),
  );
  return {
    outboxId: d.outboxId,
    outcome: recorded ? 'delivered' : 'duplicate',
    detail: sent.detail,
  };
}

async function sendWebhook(
  deps: NotificationProcessorDeps,
  store: DeliveryStore,
  d: Delivery,
  slot: Slot,
): Promise<NotificationResult> {
  const endpoint = d.endpoint;
  if (!endpoint) return { outboxId: d.outboxId, outcome: 'gone' };
  if (!endpoint.enabled) {
    throw new FinalJobError('endpoint_disabled', `endpoint ${endpoint.id} is disabled`);
  }
  const target = checkWebhookUrl(endpoint.url);
  if (!target.ok) throw new FinalJobError('target_not_allowed', target.reason);
  // The slot covers the HTTP call only: the bookkeeping after it must not keep other jobs
  // of this endpoint waiting.
  const id = webhookId(d.outboxId);
  let attempt;
  try {
    const body = JSON.stringify(webhookEvent(d));
    attempt = await postWebhook({
      url: endpoint.url,
      headers: webhookHeaders(endpoint.secret, id, Math.floor(Date.now() / 1000), body),
      body,
      timeoutMs: deps.webhooks.timeoutMs,
      allowPrivate: deps.webhooks.allowPrivate,
    });
  } finally {
    slot.release();
  }
  const verdict = classifyWebhookAttempt(attempt);
  deps.metrics?.webhookAttempt(verdict.kind);
  const record = {
    endpointId: endpoint.id,
    webhookId: id,
    httpStatus: attempt.status ?? null,
    durationMs: Math.round(attempt.durationMs),
    error: attempt.error ?? null,
  };
  if (verdict.kind === 'delivered') {
    const detail = `HTTP ${attempt.status}`;
    const first = await recordAfterSend(() =>
      store.record({ outboxId: d.outboxId, detail, attempt: record }),
    );
    return { outboxId: d.outboxId, outcome: first ? 'delivered' : 'duplicate', detail };
  }
  await recordWebhookAttempt(deps.db, { outboxId: d.outboxId, ...record });
  switch (verdict.kind) {
    case 'gone':
      await setWebhookEndpointEnabled(deps.db, endpoint.id, false, verdict.reason);
      throw new FinalJobError('endpoint_gone', verdict.reason);
    case 'final':
      throw new FinalJobError(
        attempt.refused ? 'target_not_allowed' : 'delivery_refused',
        verdict.reason,
      );
    case 'retry': {
      const failingSince = await noteEndpointFailure(deps.db, endpoint.id);
      if (Date.now() - failingSince.getTime() >= deps.webhooks.disableAfterMs) {
        const why = `every attempt failed since ${failingSince.toISOString()}`;
        await setWebhookEndpointEnabled(deps.db, endpoint.id, false, why);
        throw new FinalJobError('endpoint_disabled', `${verdict.reason}; ${why}`);
      }
      throw new RetryLaterError(verdict.reason, verdict.retryAfterMs);
    }
  }
}
