/** Gaps before each retry of the record (ms): about 1.3 s in all, past a connection's restart. */
const RETRY_DELAYS_MS = [100, 300, 900];

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Writes the record of a notification that was just sent. Failing the job here would send it
 * again on the retry, so the write is retried first: a PostgreSQL connection dropped between
 * the send and its record (a terminated backend, a restart, a failover) then costs a fresh
 * pooled connection, not a second email or webhook. The records only set `delivered_at` where
 * it is still null, so a write that committed before its answer was lost records nothing twice.
 * Past the retries the error goes up and the job sends again: at least once, never lost.
 */
export async function recordAfterSend<T>(
  write: () => Promise<T>,
  delaysMs: readonly number[] = RETRY_DELAYS_MS,
  sleep: (ms: number) => Promise<void> = wait,
): Promise<T> {
  for (const delayMs of delaysMs) {
    try {
      return await write();
    } catch {
      await sleep(delayMs);
    }
  }
  return write();
}
