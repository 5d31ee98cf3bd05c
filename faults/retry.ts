/** What one attempt of a request came back with. */
export type Attempt =
  | { kind: 'network'; error: string }
  | { kind: 'answer'; status: number; code?: string; retryAfter?: string | null };

/** What the client does next. */
export type Next =
  | { kind: 'retry'; delayMs: number; why: RetryCause }
  | { kind: 'done'; outcome: 'answered' | 'refused' }
  | { kind: 'gave-up'; why: RetryCause };

/** Why an attempt is repeated: the answers that say "nothing was done, try later". */
export type RetryCause = 'network' | '503' | '409' | '429';

/** Backoff of network errors, which carry no Retry-After: doubling from this, capped. */
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2_000;

/**
 * A well-behaved client (API.md §7, §8): retry network errors, 503 and 429, and 409
 * `idempotency_key_in_progress`, always with the same Idempotency-Key, waiting what Retry-After
 * says; anything else is final. `attempt` counts from 1; past `deadlineMs` it gives up.
 */
export function nextStep(
  attempt: Attempt,
  attemptNumber: number,
  elapsedMs: number,
  deadlineMs: number,
): Next {
  const cause = retryCause(attempt);
  if (!cause) {
    const status = attempt.kind === 'answer' ? attempt.status : 0;
    return { kind: 'done', outcome: status === 200 ? 'answered' : 'refused' };
  }
  const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (attemptNumber - 1), MAX_BACKOFF_MS);
  const delayMs =
    attempt.kind === 'answer' ? (retryAfterMs(attempt.retryAfter) ?? backoff) : backoff;
  if (elapsedMs + delayMs > deadlineMs) return { kind: 'gave-up', why: cause };
  return { kind: 'retry', delayMs, why: cause };
}

function retryCause(attempt: Attempt): RetryCause | undefined {
  if (attempt.kind === 'network') return 'network';
  if (attempt.status === 503) return '503';
  if (attempt.status === 429) return '429';
  if (attempt.status === 409 && attempt.code === 'idempotency_key_in_progress') return '409';
  return undefined;
}

/** Retry-After in delay-seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
