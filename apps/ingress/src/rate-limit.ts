import type { Redis } from 'ioredis';
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
 * Fixed one-minute windows counted in Redis, shared by every ingress process. All rules of a
 * request are counted in one pipelined round trip. Returns the headers of the tightest rule.
 */
export async function consumeRateLimits(
  redis: Redis,
  prefix: string,
  rules: readonly RateLimitRule[],
  now = Date.now(),
): Promise<Record<string, string>> {
  if (!isRedisReady(redis)) throw serviceUnavailable('Redis is unreachable');
  const window = Math.floor(now / WINDOW_MS);
  const resetS = Math.ceil(((window + 1) * WINDOW_MS - now) / 1000);
  const pipeline = redis.multi();
  for (const rule of rules) {
    const key = `${prefix}:ratelimit:${rule.scope}:${rule.id}:${window}`;
    pipeline.incr(key).pexpire(key, WINDOW_MS + 1000);
  }
  let results: [Error | null, unknown][] | null;
  try {
    results = await pipeline.exec();
  } catch {
    throw serviceUnavailable('Redis is unreachable');
  }
  let headers: Record<string, string> = {};
  let tightest = Infinity;
  for (const [i, rule] of rules.entries()) {
    const count = Number(results?.[i * 2]?.[1] ?? 0);
    const remaining = rule.perMinute - count;
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
