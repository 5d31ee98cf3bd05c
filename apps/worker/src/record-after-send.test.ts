import { describe, expect, it } from 'vitest';
import { recordAfterSend } from './record-after-send.ts';

/** A write that fails `failures` times, then answers `true`; counts its calls. */
function flaky(failures: number) {
  let calls = 0;
  return {
    calls: () => calls,
    write: () => {
      calls += 1;
      return calls <= failures
        ? Promise.reject(new Error('terminating connection due to administrator command'))
        : Promise.resolve(true);
    },
  };
}

const slept: number[] = [];
const sleep = (ms: number) => {
  slept.push(ms);
  return Promise.resolve();
};

describe('recordAfterSend', () => {
  it('writes once when the write succeeds', async () => {
    const w = flaky(0);
    await expect(recordAfterSend(w.write, [100, 300], sleep)).resolves.toBe(true);
    expect(w.calls()).toBe(1);
  });

  it('retries a failed write after each delay until it succeeds', async () => {
    slept.length = 0;
    const w = flaky(2);
    await expect(recordAfterSend(w.write, [100, 300, 900], sleep)).resolves.toBe(true);
    expect(w.calls()).toBe(3);
    expect(slept).toEqual([100, 300]);
  });

  it('gives up with the last error after every retry', async () => {
    const w = flaky(10);
    await expect(recordAfterSend(w.write, [100, 300], sleep)).rejects.toThrow('terminating');
    expect(w.calls()).toBe(3);
  });
});
