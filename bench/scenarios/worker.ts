import type { Queue } from 'bullmq';
import { countRows, fillQueue, openQueue, waitForDrain } from '../jobs.ts';
import type { Program } from '../processes.ts';
import { inRoundOrder, ratioRow, type Scenario } from '../rounds.ts';
import { BASELINE_TABLE, type BenchStack } from '../stack.ts';
import { BASELINES, baselineProgram } from './baselines.ts';

/** Jobs per measured drain: the fastest side (c) takes about a second, 100× the poll interval. */
const JOBS = 10_000;
const WARMUP_JOBS = 1000;

/**
 * Fills a paused queue, resumes it and times the drain: the clock covers only processing,
 * not the fill nor the worker's start-up. Where the side writes rows, every job must have one.
 */
export async function timeDrain(
  queue: Queue,
  stack: BenchStack,
  jobs: number,
  table: string | undefined,
): Promise<number> {
  await queue.pause();
  await fillQueue(queue, stack, jobs);
  const before = table ? await countRows(stack, table) : 0;
  const start = performance.now();
  await queue.resume();
  const end = await waitForDrain(queue);
  if (table) {
    const written = (await countRows(stack, table)) - before;
    if (written !== jobs) throw new Error(`${jobs} jobs drained but ${written} rows in ${table}`);
  }
  return jobs / ((end - start) / 1000);
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
      await ctx.start(`worker-${side.key}`, side.program, prefix);
      const queue = openQueue(stack.redis, prefix);
      // Not measured: connections opened, pools filled, code paths compiled.
      await timeDrain(queue, stack, WARMUP_JOBS, side.table);
      started.push({ ...side, queue });
    }

    const rates = new Map<string, number[]>(sides.map((s) => [s.key, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const side of inRoundOrder(round, started)) {
        rates.get(side.key)!.push(await timeDrain(side.queue, stack, JOBS, side.table));
      }
    }
    await Promise.all(started.map((s) => s.queue.close()));

    const tf = rates.get('ticketflow')!;
    const metric = `reply worker, ${JOBS} pre-filled jobs: jobs/s`;
    return [
      ratioRow(
        {
          scenario: 'worker',
          metric,
          unit: 'jobs/s',
          baselineName: BASELINES.d.name,
          target: { on: 'ratio', op: '>=', value: 1.0, text: '≥ 1.0' },
        },
        tf,
        rates.get('d')!,
      ),
      ratioRow(
        {
          scenario: 'worker',
          metric,
          unit: 'jobs/s',
          baselineName: BASELINES.c.name,
          target: { on: 'ratio', op: '>=', value: 0.5, text: '≥ 0.5' },
        },
        tf,
        rates.get('c')!,
      ),
    ];
  },
};
