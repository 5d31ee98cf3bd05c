import { cpus } from 'node:os';
import { CPU_SPLIT_LEGEND, cpuSplitNote, type CpuSplit } from '../cpu.ts';
import { addTickets, openQueue } from '../jobs.ts';
import type { Child } from '../processes.ts';
import { inRoundOrder, median, ratioRow, type Row, type Scenario } from '../rounds.ts';
import { PRODUCT_DEFAULTS } from '../stack.ts';
import { timeDrain, type Drain } from './worker.ts';

/** As the worker scenario: 10 000 jobs keep even the fastest drain seconds long. */
const JOBS = 10_000;
const WARMUP_JOBS = 1000;
const PROCESS_COUNTS = [1, 2, 3] as const;
/**
 * Replies spread over this many tickets, as a deployment's do: all on one ticket, every
 * process's group commit would queue for that ticket's row lock, and the figure would measure
 * the lock, not the processes.
 */
const TICKETS = 100;

/**
 * Scale-out on one Redis (issue 13): 1, 2 and 3 `serve --worker` processes at the product's
 * defaults drain the same pre-filled replies (over TICKETS tickets) from one queue, each group
 * on its own prefix so an idle group takes nothing. The rows give 2 and 3 processes against 1
 * in the same rounds; the notes say what caps them on this machine: every process, Redis and
 * PostgreSQL share its cores, so once CPU per job × jobs/s fills them, more processes only
 * share them.
 */
export const workerProcessesScenario: Scenario = {
  id: 'worker-processes',
  async run(ctx) {
    const { stack } = ctx;
    const tickets = await addTickets(stack, 'WP', TICKETS);
    const groups = [];
    for (const count of PROCESS_COUNTS) {
      const prefix = stack.prefix(`workers-${count}`);
      const children: Child[] = [];
      for (let i = 0; i < count; i++) {
        children.push(
          await ctx.start(
            `workers-${count}-${i + 1}`,
            { kind: 'ticketflow', mode: 'worker' },
            prefix,
          ),
        );
      }
      const queue = openQueue(stack.redis, prefix);
      const group = { count, children, queue, table: 'ticket_replies', tickets };
      // Not measured: every process connected, its pool filled, its code paths compiled.
      await timeDrain(queue, stack, WARMUP_JOBS * count, group);
      groups.push(group);
    }

    const drains = new Map<number, Drain[]>(PROCESS_COUNTS.map((n) => [n, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const group of inRoundOrder(round, groups)) {
        drains.get(group.count)!.push(await timeDrain(group.queue, stack, JOBS, group));
      }
    }
    await Promise.all(groups.map((g) => g.queue.close()));

    const rates = (count: number) => drains.get(count)!.map((d) => d.jobsPerSecond);
    const note = (count: number) => {
      const runs = drains.get(count)!;
      return (
        `${count} process${count > 1 ? 'es' : ''} ${cpuSplitNote(runs.map((d) => d.cpu))} ` +
        `(${ceilings(runs, count)})`
      );
    };
    const cores = cpus().length;
    const title = (count: number) =>
      `reply worker, ${JOBS} pre-filled jobs on ${TICKETS} tickets, ${count} × serve --worker: jobs/s`;
    // One row per count above 1, against 1 process in the same rounds (its jobs/s is the baseline).
    const rows: Row[] = PROCESS_COUNTS.filter((n) => n > 1).map((count) =>
      ratioRow(
        {
          scenario: 'worker-processes',
          metric: title(count),
          unit: 'jobs/s',
          baselineName: '1 × serve --worker',
          note:
            `concurrency ${PRODUCT_DEFAULTS.worker.concurrency} and pool ` +
            `${PRODUCT_DEFAULTS.dbPoolMax} per process, ${cores} cores shared by all; CPU per job ` +
            `(${CPU_SPLIT_LEGEND}): ${note(1)}; ${note(count)}`,
        },
        rates(count),
        rates(1),
      ),
    );
    return rows;
  },
};

/**
 * What bounds a group at this CPU per job: the machine, at about cores × 1 s ÷ the total µs
 * per job, and the group's own processes, at about one core each (JavaScript runs on one
 * thread per process) ÷ their µs per job; and how many cores the drain kept busy.
 */
function ceilings(runs: readonly Drain[], processes: number): string {
  const total = (cpu: CpuSplit) => cpu.service + cpu.redis + cpu.postgres + cpu.load;
  const perJob = median(runs.map((r) => total(r.cpu)));
  const own = median(runs.map((r) => r.cpu.service));
  const busy = median(runs.map((r) => (r.jobsPerSecond * total(r.cpu)) / 1e6));
  return (
    `${busy.toFixed(2)} of ${cpus().length} cores busy; ceilings: the machine ≈ ` +
    `${fmt((cpus().length * 1e6) / perJob)} jobs/s, its own processes ≈ ${fmt((processes * 1e6) / own)} jobs/s`
  );
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
