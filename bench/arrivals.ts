/**
 * What a sink received: each delivery's first arrival, in order. Waiting for the nth resolves
 * with the moment it arrived, not the moment a poll noticed, so the clock needs no polling.
 */
export interface Arrivals {
  /** Unique deliveries since the last reset. */
  readonly count: number;
  /** Deliveries whose id had already arrived (a retry or a second job for one row). */
  readonly repeats: number;
  /** First arrival of each id, `performance.now()` of this process, in arrival order. */
  readonly byId: ReadonlyMap<string, number>;
  note(id: string): void;
  /** Resolves with when the nth unique delivery arrived (at once when it already has). */
  reached(n: number): Promise<number>;
  reset(): void;
}

export function createArrivals(): Arrivals {
  let byId = new Map<string, number>();
  let times: number[] = [];
  let repeats = 0;
  let waiters: Array<{ n: number; resolve: (at: number) => void }> = [];
  return {
    get count() {
      return times.length;
    },
    get repeats() {
      return repeats;
    },
    get byId() {
      return byId;
    },
    note(id) {
      if (byId.has(id)) {
        repeats++;
        return;
      }
      const at = performance.now();
      byId.set(id, at);
      times.push(at);
      if (waiters.length === 0) return;
      const due = waiters.filter((w) => w.n <= times.length);
      waiters = waiters.filter((w) => w.n > times.length);
      for (const w of due) w.resolve(times[w.n - 1]!);
    },
    reached(n) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`no ${n}th delivery to wait for`);
      if (n <= times.length) return Promise.resolve(times[n - 1]!);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    reset() {
      byId = new Map();
      times = [];
      repeats = 0;
      waiters = [];
    },
  };
}
