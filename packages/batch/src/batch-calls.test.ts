import { describe, expect, it } from 'vitest';
import { allOk, batchCalls, eachOnFailure, type Settled } from './batch-calls.ts';

/** A run function that records each batch it was given and answers after `delayMs`. */
function recorder<I, O>(answer: (input: I) => Settled<O>, delayMs = 5) {
  const batches: I[][] = [];
  const run = async (inputs: I[]) => {
    batches.push(inputs);
    await new Promise((r) => setTimeout(r, delayMs));
    return inputs.map(answer);
  };
  return { batches, run };
}

describe('batchCalls', () => {
  it('runs calls made in the same tick as one batch and answers each with its own result', async () => {
    const { batches, run } = recorder((n: number) => ({ ok: true, value: n * 2 }));
    const call = batchCalls(run);
    expect(await Promise.all([1, 2, 3].map(call))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('never puts more than maxBatch inputs in one batch', async () => {
    const { batches, run } = recorder((n: number) => ({ ok: true, value: n }));
    const call = batchCalls(run, { maxBatch: 2 });
    await Promise.all([1, 2, 3, 4, 5].map(call));
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('makes calls wait while maxInFlight batches run, then sends them together', async () => {
    const { batches, run } = recorder((n: number) => ({ ok: true, value: n }), 20);
    const call = batchCalls(run, { maxInFlight: 1 });
    const first = call(0);
    await new Promise((r) => setImmediate(r));
    const later = [1, 2, 3].map(call);
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[0], [1, 2, 3]]);
  });

  it('fails only the inputs whose outcome failed', async () => {
    const { run } = recorder((n: number): Settled<number> =>
      n === 2 ? { ok: false, error: new Error('two') } : { ok: true, value: n },
    );
    const call = batchCalls(run);
    const results = await Promise.allSettled([1, 2, 3].map(call));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every input of a batch whose run throws, and keeps serving later calls', async () => {
    let broken = true;
    const call = batchCalls((inputs: number[]) =>
      broken ? Promise.reject(new Error('redis down')) : Promise.resolve(allOk(inputs)),
    );
    const failed = await Promise.allSettled([1, 2].map(call));
    expect(failed.every((r) => r.status === 'rejected')).toBe(true);
    broken = false;
    expect(await call(3)).toBe(3);
  });

  it('rejects a call whose batch answered fewer results than inputs', async () => {
    const call = batchCalls((inputs: number[]) => Promise.resolve(allOk(inputs.slice(1))));
    const results = await Promise.allSettled([1, 2].map(call));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
  });
});

describe('eachOnFailure', () => {
  it('runs the batch as one, and only when that throws runs each input on its own', async () => {
    const calls: string[] = [];
    const run = eachOnFailure(
      (inputs: number[]) => {
        calls.push(`all ${inputs.join(',')}`);
        return inputs.includes(13)
          ? Promise.reject(new Error('refused'))
          : Promise.resolve(inputs.map((n) => n * 2));
      },
      (input: number) => {
        calls.push(`one ${input}`);
        return input === 13 ? Promise.reject(new Error('13 refused')) : Promise.resolve(input * 2);
      },
    );
    expect(await run([1, 2])).toEqual([
      { ok: true, value: 2 },
      { ok: true, value: 4 },
    ]);
    const mixed = await run([1, 13, 3]);
    expect(mixed.map((s) => s.ok)).toEqual([true, false, true]);
    expect(mixed[2]).toEqual({ ok: true, value: 6 });
    expect(calls).toEqual(['all 1,2', 'all 1,13,3', 'one 1', 'one 13', 'one 3']);
  });
});
