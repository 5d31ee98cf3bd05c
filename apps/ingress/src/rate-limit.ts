import type { Redis } from 'ioredis';
import { batchCalls, type Settled } from '@ticketflow/batch';
import { apiErrorWithHeaders } from '@ticketflow/contract';
import { isRedisReady } from '@ticketflow/queue';
import { serviceUnavailable } from './error-response.ts';

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
 * concurrent requests are counted in one pipelined round trip. `consume` resolves with the
 * headers of the request's tightest rule, or throws 429.
 */
export function createRateLimiter(redis: Redis, prefix: string) {
  const countMany = batchCalls(
    async (requests: Array<{ rules: readonly RateLimitRule[]; now: number }>) => {
      const pipeline = redis.multi();
      for (const { rules, now } of requests) {
        for (const rule of rules) {
          const key = `${prefix}:ratelimit:${rule.scope}:${rule.id}:${windowOf(now)}`;
          pipeline.incr(key).pexpire(key, WINDOW_MS + 1000);
        }
      }
      const results = await pipeline.exec();
      let at = 0;
      return requests.map(({ rules, now }): Settled<Record<string, string>> => {
        const counts = rules.map(() => Number(results?.[at++ * 2]?.[1] ?? 0));
        try {
          return { ok: true, value: verdict(rules, counts, now) };
        } catch (error) {
          return { ok: false, error };
        }
      });
    },
    { maxBatch: 200, maxInFlight: 4 },
  );

  return async function consume(rules: readonly RateLimitRule[], now = Date.now()) {
    if (!isRedisReady(redis)) throw serviceUnavailable('Redis is unreachable');
    try {
      return await countMany({ rules, now });
    } catch (error) {
      if ((error as { name?: string }).name === 'ApiError') throw error;
      throw serviceUnavailable('Redis is unreachable');
    }
  };
}

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
