import { describe, expect, it } from 'vitest';
import { classifyWebhookAttempt, webhookRetryDelayMs } from './classify-webhook-attempt.ts';
import type { WebhookAttempt } from './post-webhook.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
/** Svix's schedule after the first attempt. */
const SVIX_SCHEDULE = [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H];

function attempt(fields: Omit<WebhookAttempt, 'durationMs'>): WebhookAttempt {
  return { durationMs: 12, ...fields };
}

describe('classifyWebhookAttempt', () => {
  it.each([
    ['a 200 is delivered', attempt({ status: 200 }), { kind: 'delivered' }],
    ['a 204 is delivered', attempt({ status: 204 }), { kind: 'delivered' }],
    [
      'a 200 whose body was cut off by the deadline is still delivered',
      attempt({ status: 200, error: 'timed out after 15000 ms' }),
      { kind: 'delivered' },
    ],
    [
      'a timeout is retried with its error as the reason',
      attempt({ error: 'timed out after 15000 ms' }),
      { kind: 'retry', reason: 'timed out after 15000 ms' },
    ],
    [
      'a refused connection is retried',
      attempt({ error: 'hooks.example.com:443 refused the connection' }),
      { kind: 'retry', reason: 'hooks.example.com:443 refused the connection' },
    ],
    [
      'a 500 is retried',
      attempt({ status: 500 }),
      { kind: 'retry', reason: 'HTTP 500 from the endpoint' },
    ],
    [
      'a 503 is retried with its Retry-After',
      attempt({ status: 503, retryAfterMs: 30 * S }),
      { kind: 'retry', reason: 'HTTP 503 from the endpoint', retryAfterMs: 30 * S },
    ],
    [
      'a 408 is retried',
      attempt({ status: 408 }),
      { kind: 'retry', reason: 'HTTP 408 from the endpoint' },
    ],
    [
      'a 429 is retried with its Retry-After',
      attempt({ status: 429, retryAfterMs: 1000 }),
      { kind: 'retry', reason: 'HTTP 429 from the endpoint', retryAfterMs: 1000 },
    ],
    [
      'a 410 means the endpoint is gone',
      attempt({ status: 410 }),
      { kind: 'gone', reason: 'HTTP 410 from the endpoint: it no longer accepts webhooks' },
    ],
    [
      'a 400 is final',
      attempt({ status: 400 }),
      { kind: 'final', reason: 'HTTP 400 from the endpoint' },
    ],
    [
      'a 404 is final',
      attempt({ status: 404 }),
      { kind: 'final', reason: 'HTTP 404 from the endpoint' },
    ],
    [
      'a 401 is final even with a Retry-After',
      attempt({ status: 401, retryAfterMs: 1000 }),
      { kind: 'final', reason: 'HTTP 401 from the endpoint' },
    ],
  ])('%s', (_case, given, expected) => {
    expect(classifyWebhookAttempt(given)).toEqual(expected);
  });

  it('treats a redirect as final and says to register the target instead', () => {
    const verdict = classifyWebhookAttempt(attempt({ status: 301 }));
    expect(verdict.kind).toBe('final');
    expect(verdict.kind !== 'delivered' && verdict.reason).toMatch(/^HTTP 301 .*redirect/);
  });

  it('treats an address the guard refused as final and names the setting that allows it', () => {
    const verdict = classifyWebhookAttempt(
      attempt({ refused: true, error: '127.0.0.1 is not a public address' }),
    );
    expect(verdict.kind).toBe('final');
    expect(verdict.kind !== 'delivered' && verdict.reason).toMatch(
      /127\.0\.0\.1 is not a public address.*TICKETFLOW_WEBHOOK_ALLOW_PRIVATE/,
    );
  });
});

describe('webhookRetryDelayMs', () => {
  it.each([
    ['waits 5 s after the first failure', 1, undefined, 5 * S],
    ['waits 5 min after the second failure', 2, undefined, 5 * M],
    ['waits 10 h after the last entry of the schedule', 7, undefined, 10 * H],
    ['keeps the last entry once past the end of the schedule', 12, undefined, 10 * H],
    ['waits longer when Retry-After asks for more', 1, 60 * S, 60 * S],
    ['keeps the schedule when Retry-After asks for less', 3, 1 * S, 30 * M],
    ['caps Retry-After at 24 h', 1, 7 * 24 * H, 24 * H],
    ['ignores a Retry-After of zero', 2, 0, 5 * M],
  ])('%s', (_case, attemptsMade, retryAfterMs, expected) => {
    expect(webhookRetryDelayMs(SVIX_SCHEDULE, attemptsMade, retryAfterMs)).toBe(expected);
  });

  it('refuses an empty schedule', () => {
    expect(() => webhookRetryDelayMs([], 1)).toThrow(RangeError);
  });
});
