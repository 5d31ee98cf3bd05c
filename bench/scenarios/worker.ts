import type { Queue } from 'bullmq';
import { countRows, fillQueue, openQueue, waitForDrain } from '../jobs.ts';
import { CPU_SPLIT_LEGEND, cpuSplitNote, perUnit, type CpuSplit } from '../cpu.ts';
import type { Child, Program } from '../processes.ts';
import { inRoundOrder, ratioRow, type Scenario } from '../rounds.ts';
import { BASELINE_TABLE, type BenchStack } from '../stack.ts';
import { BASELINES, baselineProgram } from './baselines.ts';

/** Jobs per measured drain: the fastest side (c) takes about a second, 100× the poll interval. */
const JOBS = 10_000;
const WARMUP_JOBS = 1000;

interface Drain {
  jobsPerSecond: number;
  /** CPU µs per job by who spent it. */
  cpu: CpuSplit;
}

/**
 * Fills a paused queue, resumes it and times the drain: the clock and the CPU meter cover only
 * processing, not the fill nor the worker's start-up. Where the side writes rows, every job must
 * have one.
 */
async function timeDrain(
  queue: Queue,
  stack: BenchStack,
  jobs: number,
  side: { child: Child; table?: string },
): Promise<Drain> {
  await queue.pause();
  // noemail: the worker figures compare storing replies with (c) and (d); notifications have
  // their own scenarios.
  await fillQueue(queue, stack, jobs, { noemail: true });
  const before = side.table ? await countRows(stack, side.table) : 0;
  const meter = stack.cpuMeter([side.child.pid]);
  const start = performance.now();
  await queue.resume();
  const end = await waitForDrain(queue);
  const cpu = perUnit(meter(), jobs);
  if (side.table) {
    const written = (await countRows(stack, side.table)) - before;
    if (written !== jobs) {
      throw new Error(`${jobs} jobs drained but ${written} rows in ${side.table}`);
    }
  }
  return { jobsPerSecond: jobs / ((end - start) / 1000), cpu };
}

export const workerScenario: Scenario = {
  id: 'worker',
  async run(ctx) {
    const { stack } = ctx;
    const sides: Array<{ key: 'ticketflow' | 'c' | 'd'; program: Program; table?: string }> = [
      {
        key: 'ticketflow',
        program: { kind: 'ticketflow', mode: 'worker' },
        table: 'ticket_replies',
      },
      { key: 'c', program: baselineProgram('c') },
      { key: 'd', program: baselineProgram('d'), table: BASELINE_TABLE },
    ];
    const started = [];
    for (const side of sides) {
      const prefix = stack.prefix(`worker-${side.key}`);
      const child = await ctx.start(`worker-${side.key}`, side.program, prefix);
      const queue = openQueue(stack.redis, prefix);
      // Not measured: connections opened, pools filled, code paths compiled.
      await timeDrain(queue, stack, WARMUP_JOBS, { child, ...side });
      started.push({ ...side, child, queue });
    }

    const drains = new Map<string, Drain[]>(sides.map((s) => [s.key, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const side of inRoundOrder(round, started)) {
        drains.get(side.key)!.push(await timeDrain(side.queue, stack, JOBS, side));
      }
    }
    await Promise.all(started.map((s) => s.queue.close()));

    const rates = (key: string) => drains.get(key)!.map((d) => d.jobsPerSecond);
    const cpu = (key: string) => cpuSplitNote(drains.get(key)!.map((d) => d.cpu));
    const tf = rates('ticketflow');
    const metric = `reply worker, ${JOBS} pre-filled jobs: jobs/s`;
    const note = (key: 'c' | 'd') =>
      `CPU per job (${CPU_SPLIT_LEGEND}): Ticketflow ${cpu('ticketflow')}; (${key}) ${cpu(key)}`;
    return [
      ratioRow(
        {
          scenario: 'worker',
          metric,
          unit: 'jobs/s',
          baselineName: BASELINES.d.name,
          target: { on: 'ratio', op: '>=', value: 1.0, text: '≥ 1.0' },
          note: note('d'),
        },
        tf,
        rates('d'),
      ),
      ratioRow(
        {
          scenario: 'worker',
          metric,
          unit: 'jobs/s',
          baselineName: BASELINES.c.name,
          target: { on: 'ratio', op: '>=', value: 0.5, text: '≥ 0.5' },
          note: note('c'),
        },
        tf,
        rates('c'),
      ),
    ];
  },
};
