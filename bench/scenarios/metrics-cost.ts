import type { Queue } from 'bullmq';
import { deleteKeys } from '@ticketflow/testing/redis';
import { perUnit } from '../cpu.ts';
import { countRows, fillQueue, openQueue, waitForDrain } from '../jobs.ts';
import { measureLoad } from '../load.ts';
import { REPLY_PATH, urlencodedPayload } from '../payloads.ts';
import type { Child } from '../processes.ts';
import { inRoundOrder, ratioRow, type Scenario, type ScenarioContext } from '../rounds.ts';
import type { BenchStack } from '../stack.ts';

/** Issue 14: the ingress and worker rows with metrics on stay within 5 % of the same rows off. */
const WITHIN_5_PERCENT = { on: 'ratio', op: '>=', value: 0.95, text: '≥ 0.95' } as const;
const SIDES = [
  { key: 'on', env: { TICKETFLOW_METRICS: 'true' } },
  { key: 'off', env: { TICKETFLOW_METRICS: 'false' } },
] as const;
/** As the worker scenario: the drain takes seconds, warm-up compiles the code paths first. */
const JOBS = 10_000;
const WARMUP_JOBS = 1000;

type Figures = Record<'on' | 'off', number[]>;
const perSide = (): Figures => ({ on: [], off: [] });

/**
 * What metrics cost: the same Ticketflow process with TICKETFLOW_METRICS on and off, side by
 * side in the same rounds, the on side as "Ticketflow" and the off side as the baseline. The
 * ingress takes the urlencoded load of `ingress-urlencoded`; the worker drains pre-filled jobs
 * as in `worker`, but `noemail`: with two product workers side by side, one side's email backlog
 * would otherwise still be draining during the other's measurement. Nothing scrapes `/metrics`
 * meanwhile: a scrape every 15 s reads each queue's counts once, which these numbers would not
 * resolve.
 */
export const metricsCostScenario: Scenario = {
  id: 'metrics-cost',
  async run(ctx) {
    const ingress = await measureIngress(ctx);
    const drains = await measureWorker(ctx);
    const row = (metric: string, unit: string, figures: Figures, target = false) =>
      ratioRow(
        {
          scenario: 'metrics-cost',
          metric,
          unit,
          baselineName: 'metrics off',
          ...(target ? { target: WITHIN_5_PERCENT } : {}),
        },
        figures.on,
        figures.off,
      );
    // The process's own CPU per unit moves less than throughput when other work shares the cores.
    const worker = `reply worker, ${JOBS} pre-filled jobs, metrics on ÷ off`;
    return [
      row('ingress urlencoded, metrics on ÷ off: req/s', 'req/s', ingress.rps, true),
      row('ingress urlencoded, metrics on ÷ off: p99 latency', 'ms', ingress.p99),
      row('ingress urlencoded, metrics on ÷ off: server CPU per answer', 'µs', ingress.cpu),
      row(`${worker}: jobs/s`, 'jobs/s', drains.rate, true),
      row(`${worker}: worker CPU per job`, 'µs', drains.cpu),
    ];
  },
};

async function measureIngress(ctx: ScenarioContext) {
  const { stack } = ctx;
  const payload = urlencodedPayload(stack.seed.ticketId, { noemail: true });
  const started = [];
  for (const side of SIDES) {
    const prefix = stack.prefix(`metrics-ingress-${side.key}`);
    const program = { kind: 'ticketflow', mode: 'ingress' } as const;
    const child = await ctx.start(`metrics-ingress-${side.key}`, program, prefix, side.env);
    started.push({ ...side, prefix, child });
  }
  const rps = perSide();
  const p99 = perSide();
  const cpu = perSide();
  for (let round = 0; round < ctx.rounds; round++) {
    for (const side of inRoundOrder(round, started)) {
      const target = { url: side.child.url + REPLY_PATH, token: stack.token, payload };
      const label = `metrics-cost ingress ${side.key} round ${round + 1}`;
      const figures = await measureLoad(label, target, () => stack.cpuMeter([side.child.pid]));
      rps[side.key].push(figures.rps);
      p99[side.key].push(figures.p99Ms);
      cpu[side.key].push(figures.cpu!.service);
      // Every run starts on an empty queue: the jobs this one left are deleted.
      await deleteKeys(stack.redis, `${side.prefix}:*`);
    }
  }
  return { rps, p99, cpu };
}

async function measureWorker(ctx: ScenarioContext): Promise<{ rate: Figures; cpu: Figures }> {
  const { stack } = ctx;
  const started = [];
  for (const side of SIDES) {
    const prefix = stack.prefix(`metrics-worker-${side.key}`);
    const program = { kind: 'ticketflow', mode: 'worker' } as const;
    const child = await ctx.start(`metrics-worker-${side.key}`, program, prefix, side.env);
    const queue = openQueue(stack.redis, prefix);
    // Not measured: connections opened, pools filled, code paths compiled.
    await drainRate(queue, stack, WARMUP_JOBS, child);
    started.push({ ...side, queue, child });
  }
  const rate = perSide();
  const cpu = perSide();
  for (let round = 0; round < ctx.rounds; round++) {
    for (const side of inRoundOrder(round, started)) {
      const drain = await drainRate(side.queue, stack, JOBS, side.child);
      rate[side.key].push(drain.jobsPerSecond);
      cpu[side.key].push(drain.cpuPerJob);
    }
  }
  await Promise.all(started.map((s) => s.queue.close()));
  return { rate, cpu };
}

/** Fills a paused queue, resumes it and times the drain; every job must have stored its row. */
async function drainRate(queue: Queue, stack: BenchStack, jobs: number, child: Child) {
  await queue.pause();
  await fillQueue(queue, stack, jobs, { noemail: true });
  const before = await countRows(stack, 'ticket_replies');
  const meter = stack.cpuMeter([child.pid]);
  const start = performance.now();
  await queue.resume();
  const end = await waitForDrain(queue);
  const cpuPerJob = perUnit(meter(), jobs).service;
  const written = (await countRows(stack, 'ticket_replies')) - before;
  if (written !== jobs) throw new Error(`${child.name}: ${jobs} jobs drained, ${written} rows`);
  return { jobsPerSecond: jobs / ((end - start) / 1000), cpuPerJob };
}
