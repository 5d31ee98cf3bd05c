import type { WebhookAttempt } from './post-webhook.ts';

/** What to do after one delivery attempt. */
export type WebhookVerdict =
  | { kind: 'delivered' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'final'; reason: string } // dead letter; the endpoint stays enabled
  | { kind: 'gone'; reason: string }; // HTTP 410: dead letter and disable the endpoint

/** Retry-After is honoured up to a day; a receiver asking for longer is treated as down. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Decides the fate of one attempt, following Svix: 2xx is delivered; no response, 408, 429 and
 * 5xx are retried; 410 means the receiver wants no more webhooks; any other status, and a
 * target the address guard refused, will not get better by retrying. Pure.
 */
export function classifyWebhookAttempt(a: WebhookAttempt): WebhookVerdict {
  if (a.refused === true) {
    return {
      kind: 'final',
      reason: `not sent: ${a.error ?? 'the endpoint address was refused'}; set TICKETFLOW_WEBHOOK_ALLOW_PRIVATE=true only if receivers on private networks are intended`,
    };
  }
  // A status wins over an error: a response that arrived but was cut short was still received.
  if (a.status === undefined) {
    return { kind: 'retry', reason: a.error ?? 'no response from the endpoint' };
  }
  const status = a.status;
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) {
    return { kind: 'gone', reason: 'HTTP 410 from the endpoint: it no longer accepts webhooks' };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const reason = `HTTP ${status} from the endpoint`;
    return a.retryAfterMs === undefined
      ? { kind: 'retry', reason }
      : { kind: 'retry', reason, retryAfterMs: a.retryAfterMs };
  }
  if (status >= 300 && status < 400) {
    return {
      kind: 'final',
      reason: `HTTP ${status} from the endpoint; redirects are not followed, so register the URL it points to`,
    };
  }
  return { kind: 'final', reason: `HTTP ${status} from the endpoint` };
}

/**
 * The delay before the next attempt once `attemptsMade` attempts (at least 1) have failed:
 * that entry of `schedule`, the last entry once past its end, but no sooner than a Retry-After
 * the receiver sent (capped at 24 hours). Pure.
 *
 * @throws RangeError when `schedule` is empty.
 */
export function webhookRetryDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  retryAfterMs?: number,
): number {
  const index = Math.min(Math.max(attemptsMade, 1), schedule.length) - 1;
  const scheduled = schedule[index];
  if (scheduled === undefined) throw new RangeError('the webhook retry schedule is empty');
  return Math.max(scheduled, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
