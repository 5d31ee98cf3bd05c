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

/**
 * A batch run that isolates failures: `all` stores every input in one statement; when it throws,
 * each input is run alone by `one`, so one bad input (a row a constraint refuses) fails only its
 * own call instead of every call that happened to share its batch.
 */
export function eachOnFailure<I, O>(
  all: (inputs: I[]) => Promise<O[]>,
  one: (input: I) => Promise<O>,
): (inputs: I[]) => Promise<Settled<O>[]> {
  return async (inputs) => {
    if (inputs.length > 1) {
      try {
        return allOk(await all(inputs));
      } catch {
        // Fall through: find the input that failed by running each on its own.
      }
    }
    return Promise.all(
      inputs.map((input) =>
        one(input).then(
          (value): Settled<O> => ({ ok: true, value }),
          (error: unknown): Settled<O> => ({ ok: false, error }),
        ),
      ),
    );
  };
}
