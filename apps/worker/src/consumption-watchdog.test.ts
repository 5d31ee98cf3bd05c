import { describe, expect, it } from 'vitest';
import { judgeConsumption, type ConsumptionSample } from './consumption-watchdog.ts';

const WINDOW = 20_000;
const NOW = 1_000_000;

/** Samples every 5 s over the last `span` ms, each shaped by `at`. */
function samples(
  span: number,
  shape: (at: number) => Partial<ConsumptionSample>,
): ConsumptionSample[] {
  const out: ConsumptionSample[] = [];
  for (let at = NOW - span; at <= NOW; at += 5000) {
    out.push({ at, waiting: 3, activeHere: 0, finishedHere: 10, running: true, ...shape(at) });
  }
  return out;
}

describe('judgeConsumption', () => {
  it('finds a worker stuck when jobs waited a whole window while it ran and finished none', () => {
    expect(
      judgeConsumption(
        samples(WINDOW, () => ({})),
        NOW,
        WINDOW,
      ),
    ).toEqual({
      stuck: true,
      reason: '3 jobs waited 20 s while it took none',
    });
  });

  it('finds a worker stuck at once when its fetch loop has stopped', () => {
    expect(
      judgeConsumption(
        samples(0, () => ({ running: false })),
        NOW,
        WINDOW,
      ),
    ).toMatchObject({
      stuck: true,
      reason: 'its fetch loop has stopped',
    });
  });

  it('does not judge a window the samples do not cover yet (a worker just started)', () => {
    expect(
      judgeConsumption(
        samples(10_000, () => ({})),
        NOW,
        WINDOW,
      ),
    ).toEqual({ stuck: false });
  });

  it('leaves a busy worker alone: it runs jobs while others wait', () => {
    expect(
      judgeConsumption(
        samples(WINDOW, () => ({ activeHere: 64 })),
        NOW,
        WINDOW,
      ),
    ).toEqual({
      stuck: false,
    });
  });

  it('leaves a worker alone that finished jobs in the window, even if it is idle at each look', () => {
    const finishing = samples(WINDOW, (at) => ({
      finishedHere: 10 + (at - (NOW - WINDOW)) / 5000,
    }));
    expect(judgeConsumption(finishing, NOW, WINDOW)).toEqual({ stuck: false });
  });

  it('leaves an idle worker alone when nothing waits', () => {
    expect(
      judgeConsumption(
        samples(WINDOW, () => ({ waiting: 0 })),
        NOW,
        WINDOW,
      ),
    ).toEqual({
      stuck: false,
    });
  });

  it('does not judge looks where Redis did not answer (an outage is not a stuck worker)', () => {
    const outage = samples(WINDOW, (at) => (at === NOW - 10_000 ? { waiting: undefined } : {}));
    expect(judgeConsumption(outage, NOW, WINDOW)).toEqual({ stuck: false });
  });
});
