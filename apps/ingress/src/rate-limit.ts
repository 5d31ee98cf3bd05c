import { batchCalls, type Settled } from '@ticketflow/batch';
import { apiErrorWithHeaders } from '@ticketflow/contract';
import type { RedisClient } from '@ticketflow/queue';
import { callRedis } from './call-redis.ts';

export interface RateLimitRule {
  /** What the limit is per, as the 429 message names it ("token", "ticket"). */
  scope: string;
  /** Redis key suffix identifying the caller or ticket. */
  id: string;
  perMinute: number;
}

const WINDOW_MS = 60_000;

/**
 * Fixed one-minute windows counted in Redis, shared by every ingress process. The rules of all
 * concurrent requests are counted in one round trip, and a key that several of them share (one
 * integration's token, one busy ticket) is raised once by their number: each request's count is
 * then its own place in that run, exactly as if it had sent its own INCR. `consume` resolves
 * with the headers of the request's tightest rule, or throws 429.
 */
export function createRateLimiter(redis: RedisClient, prefix: string) {
  const countMany = batchCalls(
    async (requests: Array<{ rules: readonly RateLimitRule[]; now: number }>) => {
      // Every (request, rule) names a key; the nth request naming a key is its nth increment.
      const runs = new Map<string, number>();
      const places = requests.map(({ rules, now }) =>
        rules.map((rule) => {
          const key = `${prefix}:ratelimit:${rule.scope}:${rule.id}:${windowOf(now)}`;
          const place = (runs.get(key) ?? 0) + 1;
          runs.set(key, place);
          return { key, place };
        }),
      );
      const pipeline = redis.multi();
      for (const [key, count] of runs) pipeline.incrby(key, count).pexpire(key, WINDOW_MS + 1000);
      const results = await pipeline.exec();
      // What each key counted before this run; a request's count adds its place in the run.
      // A count Redis could not give (aborted MULTI, a key that is not a counter) fails the
      // batch, which answers 503: a limit that cannot be counted is not waved through.
      const before = new Map<string, number>();
      [...runs].forEach(([key, count], i) => {
        const [error, total] = results?.[i * 2] ?? [new Error('the rate-limit count is missing')];
        if (error || typeof total !== 'number') {
          throw error ?? new Error(`the rate-limit count of ${key} is not a number`);
        }
        before.set(key, total - count);
      });
      return requests.map(({ rules, now }, r): Settled<Record<string, string>> => {
        const counts = places[r]!.map(({ key, place }) => before.get(key)! + place);
        try {
          return { ok: true, value: verdict(rules, counts, now) };
        } catch (error) {
          return { ok: false, error };
        }
      });
    },
    { maxBatch: 200, maxInFlight: 4 },
  );

  return (rules: readonly RateLimitRule[], now = Date.now()) =>
    callRedis(redis, () => countMany({ rules, now }));
}

/** Counts a request against its rules: the headers of the tightest, or a thrown 429. */
export type ConsumeRateLimits = ReturnType<typeof createRateLimiter>;

const windowOf = (now: number) => Math.floor(now / WINDOW_MS);

function verdict(
  rules: readonly RateLimitRule[],
  counts: number[],
  now: number,
): Record<string, string> {
  const resetS = Math.ceil(((windowOf(now) + 1) * WINDOW_MS - now) / 1000);
  let headers: Record<string, string> = {};
  let tightest = Infinity;
  for (const [i, rule] of rules.entries()) {
    const remaining = rule.perMinute - (counts[i] ?? 0);
    if (remaining < 0) {
      throw apiErrorWithHeaders(
        { 'Retry-After': String(resetS), ...rateLimitHeaders(rule.perMinute, 0, resetS) },
        'rate_limited',
        rule.scope,
        resetS,
      );
    }
    if (remaining < tightest) {
      tightest = remaining;
      headers = rateLimitHeaders(rule.perMinute, remaining, resetS);
    }
  }
  return headers;
}

function rateLimitHeaders(
  limit: number,
  remaining: number,
  resetS: number,
): Record<string, string> {
  return {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(remaining),
    'RateLimit-Reset': String(resetS),
  };
}

/**
 * The email bridge's per-ticket limit: each message posted on a ticket counts in the same window
 * as the API's replies to it (`TICKETFLOW_RATE_LIMIT_PER_TICKET`), so mail and API together stay
 * under it. A sender the ticket does not know (allowed strangers) counts under their own address
 * instead, as the API counts a caller that may not reach the ticket, so no outsider can use up
 * the budget of the ticket's own people. Throws the 429 past it.
 */
export function mailTicketLimit(
  consume: ConsumeRateLimits,
  perMinute: number,
): (ticketId: number, stranger: string | undefined) => Promise<void> {
  return async (ticketId, stranger) => {
    const id = stranger === undefined ? `id:${ticketId}` : `sender:${stranger}`;
    await consume([{ scope: 'ticket', id, perMinute }]);
  };
}
