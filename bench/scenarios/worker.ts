import type { Queue } from 'bullmq';
import { countRows, fillQueue, openQueue, waitForDrain } from '../jobs.ts';
import { CPU_SPLIT_LEGEND, cpuSplitNote, perUnit, type CpuSplit } from '../cpu.ts';
import type { Child, Program } from '../processes.ts';
import { inRoundOrder, ratioRow, type Row, type Scenario } from '../rounds.ts';
import { BASELINE_TABLE, PRODUCT_DEFAULTS, type BenchStack } from '../stack.ts';
import { BASELINES, baselineProgram } from './baselines.ts';

/** Jobs per measured drain: the fastest side (c) takes about a second, 100× the poll interval. */
const JOBS = 10_000;
const WARMUP_JOBS = 1000;

/**
 * The product's default concurrency, and the low one a small deployment runs (issue 13: at 10
 * the group commit has few jobs to group, so each job's own round trips show).
 */
const DEFAULT_CONCURRENCY = PRODUCT_DEFAULTS.worker.concurrency;
const LOW_CONCURRENCY = 10;

export interface Drain {
  jobsPerSecond: number;
  /** CPU µs per job by who spent it. */
  cpu: CpuSplit;
}

/**
 * Fills a paused queue, resumes it and times the drain: the clock and the CPU meter cover only
 * processing, not the fill nor the worker's start-up. Where the side writes rows, every job must
 * have one. The jobs go to the seeded ticket unless the side names `tickets`.
 */
export async function timeDrain(
  queue: Queue,
  stack: BenchStack,
  jobs: number,
  side: { children: readonly Child[]; table?: string; tickets?: readonly number[] },
): Promise<Drain> {
  await queue.pause();
  // noemail: the worker figures compare storing replies with (c) and (d); notifications have
  // their own scenarios.
  await fillQueue(queue, stack, jobs, {
    noemail: true,
    ...(side.tickets ? { tickets: side.tickets } : {}),
  });
  const before = side.table ? await countRows(stack, side.table) : 0;
  const meter = stack.cpuMeter(side.children.map((c) => c.pid));
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

type Key = 'ticketflow' | 'c' | 'd';

interface SideSpec {
  key: Key;
  concurrency: number;
  program: Program;
  table?: string;
}

const TICKETFLOW: Program = { kind: 'ticketflow', mode: 'worker' };

/**
 * Every side is its own process on its own prefix; the pool is the product's default (10) for
 * both sides at both concurrencies, so each ratio compares equal settings.
 */
const SIDES: SideSpec[] = [
  {
    key: 'ticketflow',
    concurrency: DEFAULT_CONCURRENCY,
    program: TICKETFLOW,
    table: 'ticket_replies',
  },
  { key: 'c', concurrency: DEFAULT_CONCURRENCY, program: baselineProgram('c') },
  {
    key: 'd',
    concurrency: DEFAULT_CONCURRENCY,
    program: baselineProgram('d'),
    table: BASELINE_TABLE,
  },
  { key: 'ticketflow', concurrency: LOW_CONCURRENCY, program: TICKETFLOW, table: 'ticket_replies' },
  { key: 'd', concurrency: LOW_CONCURRENCY, program: baselineProgram('d'), table: BASELINE_TABLE },
];

const sideId = (key: Key, concurrency: number) => `${key}-${concurrency}`;

export const workerScenario: Scenario = {
  id: 'worker',
  async run(ctx) {
    const { stack } = ctx;
    const started = [];
    for (const side of SIDES) {
      const id = sideId(side.key, side.concurrency);
      const prefix = stack.prefix(`worker-${id}`);
      const child = await ctx.start(`worker-${id}`, side.program, prefix, {
        TICKETFLOW_WORKER_CONCURRENCY: String(side.concurrency),
      });
      const queue = openQueue(stack.redis, prefix);
      // Not measured: connections opened, pools filled, code paths compiled.
      await timeDrain(queue, stack, WARMUP_JOBS, { children: [child], ...side });
      started.push({ ...side, id, children: [child], queue });
    }

    const drains = new Map<string, Drain[]>(started.map((s) => [s.id, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const side of inRoundOrder(round, started)) {
        drains.get(side.id)!.push(await timeDrain(side.queue, stack, JOBS, side));
      }
    }
    await Promise.all(started.map((s) => s.queue.close()));

    const rates = (id: string) => drains.get(id)!.map((d) => d.jobsPerSecond);
    const cpu = (id: string) => cpuSplitNote(drains.get(id)!.map((d) => d.cpu));
    const row = (concurrency: number, key: 'c' | 'd', target: number): Row => {
      const tf = sideId('ticketflow', concurrency);
      const base = sideId(key, concurrency);
      return ratioRow(
        {
          scenario: 'worker',
          metric: `reply worker, ${JOBS} pre-filled jobs, concurrency ${concurrency}: jobs/s`,
          unit: 'jobs/s',
          baselineName: BASELINES[key].name,
          target: { on: 'ratio', op: '>=', value: target, text: `≥ ${target.toFixed(1)}` },
          note:
            `both sides at concurrency ${concurrency}, pool ${PRODUCT_DEFAULTS.dbPoolMax}; ` +
            `CPU per job (${CPU_SPLIT_LEGEND}): Ticketflow ${cpu(tf)}; (${key}) ${cpu(base)}`,
        },
        rates(tf),
        rates(base),
      );
    };
    return [
      row(DEFAULT_CONCURRENCY, 'd', 1.0),
      row(DEFAULT_CONCURRENCY, 'c', 0.5),
      row(LOW_CONCURRENCY, 'd', 1.0),
    ];
  },
};
