/**
 * Polls `probe` until it returns a value other than undefined, null or false; fails naming
 * `what` after `timeoutMs`. Waits on end states with a deadline, never on a bare sleep.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  /** More to print on timeout, e.g. a child process's log. */
  context: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
