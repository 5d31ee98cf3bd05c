/** One call's outcome inside a batch. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface BatchOptions {
  /** Most inputs in one batch. */
  maxBatch?: number;
  /** Batches running at once; calls made meanwhile wait and join the next one. */
  maxInFlight?: number;
}

/**
 * Coalesces concurrent calls into batches: calls made in the same tick, or while the allowed
 * batches are in flight, go to `run` together, so N concurrent requests cost one round trip
 * instead of N (group commit). `run` answers one Settled per input, in order; a throw fails
 * the whole batch.
 */
export function batchCalls<I, O>(
  run: (inputs: I[]) => Promise<Settled<O>[]>,
  { maxBatch = 100, maxInFlight = 2 }: BatchOptions = {},
): (input: I) => Promise<O> {
  const waiting: Array<{
    input: I;
    resolve: (value: O) => void;
    reject: (error: unknown) => void;
  }> = [];
  let inFlight = 0;
  let scheduled = false;

  const pump = () => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.splice(0, maxBatch);
      inFlight += 1;
      run(batch.map((call) => call.input))
        .then(
          (outcomes) =>
            batch.forEach((call, i) => {
              const outcome = outcomes[i];
              if (!outcome) call.reject(new Error('batch answered fewer results than inputs'));
              else if (outcome.ok) call.resolve(outcome.value);
              else call.reject(outcome.error);
            }),
          (error: unknown) => batch.forEach((call) => call.reject(error)),
        )
        .finally(() => {
          inFlight -= 1;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    setImmediate(pump);
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      schedule();
    });
}

/** Every input gets the same result (a batch that succeeds or fails as a whole). */
export function allOk<T>(values: readonly T[]): Settled<T>[] {
  return values.map((value) => ({ ok: true, value }));
}
