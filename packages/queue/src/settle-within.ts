/**
 * Waits for `work` to settle, but no longer than `ms`; its outcome is ignored. For closing
 * BullMQ objects and pools on shutdown: with Redis or PostgreSQL down they would wait forever.
 */
export async function settleWithin(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
