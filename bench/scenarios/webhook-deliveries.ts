import type { Queue } from 'bullmq';
import { addWebhookEndpoint, removeWebhookEndpoint, REPLY_CREATED_EVENT } from '@ticketflow/db';
import { newWebhookSecret } from '@ticketflow/worker';
import { cpuSplitNote, perUnit, type CpuSplit } from '../cpu.ts';
import {
  notificationEnv,
  openNotificationQueue,
  untilDelivered,
  waitIdle,
} from '../notifications.ts';
import type { Child, Program } from '../processes.ts';
import { inRoundOrder, median, ratioRow, type Scenario } from '../rounds.ts';
import { startSmtpSink } from '../smtp-sink.ts';
import { PRODUCT_DEFAULTS, type BenchStack } from '../stack.ts';
import {
  confirmDelivered,
  fillBaselineWebhookJobs,
  fillWebhookJobs,
  insertWebhookDeliveries,
} from '../webhook-fill.ts';
import { startWebhookSink, type WebhookSink } from '../webhook-sink.ts';
import { BASELINES, baselineProgram } from './baselines.ts';

/**
 * Deliveries per side per round. Ticketflow at its defaults is the slowest side (~150/s here,
 * and slower the longer the backlog: the jobs over the endpoint's cap cycle through delayed), so
 * 1000 take ~7 s and three sides × 5 rounds stay near a minute; (w) still takes ~1 s, and the
 * clock stops at the receiver, not at a poll.
 */
const JOBS = 1000;
const WARMUP_JOBS = 200;
const LEGEND = 'own process + Redis + PostgreSQL + receiver and polling (orchestrator)';

type Key = 'defaults' | 'equal' | 'w';

interface Side {
  key: Key;
  child: Child;
  queue: Queue;
}

interface Drain {
  deliveriesPerSecond: number;
  /** CPU µs per delivery by who spent it. */
  cpu: CpuSplit;
  /** Mean body bytes the receiver got per delivery. */
  bodyBytes: number;
}

/**
 * Fills a paused `notifications` queue, resumes it and times until the receiver has had every
 * delivery; the fill and the checks after are outside the clock and the CPU meter.
 */
async function timeDeliveries(
  stack: BenchStack,
  side: Side,
  sink: WebhookSink,
  endpointId: number,
  jobs: number,
  label: string,
): Promise<Drain> {
  await side.queue.pause();
  let outboxIds: string[] = [];
  if (side.key === 'w') {
    await fillBaselineWebhookJobs(side.queue, stack, jobs);
  } else {
    outboxIds = await insertWebhookDeliveries(stack, endpointId, jobs);
    await fillWebhookJobs(side.queue, endpointId, outboxIds);
  }
  sink.reset();
  const meter = stack.cpuMeter([side.child.pid]);
  const start = performance.now();
  await side.queue.resume();
  const end = await untilDelivered(sink.arrivals, jobs, side.queue, label);
  const cpu = perUnit(meter(), jobs);
  await waitIdle(side.queue, label);
  if (side.key !== 'w') await confirmDelivered(stack, outboxIds, label);
  if (sink.arrivals.count !== jobs || sink.arrivals.repeats > 0 || sink.badSignatures > 0) {
    throw new Error(
      `${label}: ${sink.arrivals.count} deliveries for ${jobs} jobs, ${sink.arrivals.repeats} ` +
        `repeated, ${sink.badSignatures} badly signed`,
    );
  }
  return { deliveriesPerSecond: jobs / ((end - start) / 1000), cpu, bodyBytes: sink.bytes / jobs };
}

/**
 * Webhook deliveries per second to one endpoint that answers 200 at once: Ticketflow's
 * notification worker (`serve --worker`, jobs pre-filled as its dispatcher adds them, rows in
 * PostgreSQL) against (w), a BullMQ worker POSTing each job's body with fetch, at the same
 * concurrency (64) and to the same receiver. Ticketflow runs twice: at its defaults, where at
 * most 16 attempts per endpoint are in flight, and with that cap at 64, so both sides may keep
 * 64 requests in flight.
 */
export const webhookDeliveriesScenario: Scenario = {
  id: 'webhook-deliveries',
  async run(ctx) {
    const { stack } = ctx;
    const secret = newWebhookSecret();
    const sink = await startWebhookSink({ secret });
    // No mail in this scenario; SMTP_URL still points at a sink so none could land on disk.
    const smtp = await startSmtpSink();
    // Every reply stored later fans out to every enabled endpoint: this one must not outlive us.
    const endpointId = await addWebhookEndpoint(stack.db, {
      url: sink.url,
      secret,
      events: [REPLY_CREATED_EVENT],
    });
    try {
      const ticketflow: Program = { kind: 'ticketflow', mode: 'worker' };
      const specs: Array<{ key: Key; program: Program; env: Record<string, string> }> = [
        { key: 'defaults', program: ticketflow, env: notificationEnv(smtp.url) },
        {
          key: 'equal',
          program: ticketflow,
          env: {
            ...notificationEnv(smtp.url),
            TICKETFLOW_WEBHOOK_ENDPOINT_CONCURRENCY: String(PRODUCT_DEFAULTS.notifyConcurrency),
          },
        },
        {
          key: 'w',
          program: baselineProgram('w'),
          env: { BENCH_WEBHOOK_URL: sink.url, BENCH_WEBHOOK_SECRET: secret },
        },
      ];
      const sides: Side[] = [];
      for (const spec of specs) {
        const prefix = stack.prefix(`hooks-${spec.key}`);
        const child = await ctx.start(`hooks-${spec.key}`, spec.program, prefix, spec.env);
        const side = { key: spec.key, child, queue: openNotificationQueue(stack.redis, prefix) };
        // Not measured: connections opened, pools filled, code paths compiled.
        await timeDeliveries(stack, side, sink, endpointId, WARMUP_JOBS, `${spec.key} warm-up`);
        sides.push(side);
      }

      const drains = new Map<Key, Drain[]>(specs.map((s) => [s.key, []]));
      for (let round = 0; round < ctx.rounds; round++) {
        for (const side of inRoundOrder(round, sides)) {
          const label = `webhook-deliveries ${side.key} round ${round + 1}`;
          drains
            .get(side.key)!
            .push(await timeDeliveries(stack, side, sink, endpointId, JOBS, label));
        }
      }
      await Promise.all(sides.map((s) => s.queue.close()));

      const rates = (key: Key) => drains.get(key)!.map((d) => d.deliveriesPerSecond);
      const cpu = (key: Key) => cpuSplitNote(drains.get(key)!.map((d) => d.cpu));
      const bytes = (key: Key) => median(drains.get(key)!.map((d) => d.bodyBytes)).toFixed(0);
      const metric = (setting: string) =>
        `webhook deliveries/s, ${JOBS} pre-filled, one endpoint (${setting})`;
      const common = {
        scenario: 'webhook-deliveries',
        unit: 'deliveries/s',
        baselineName: BASELINES.w.name,
      };
      const note = (key: Key) =>
        `CPU per delivery (${LEGEND}): Ticketflow ${cpu(key)}; (w) ${cpu('w')}. Body bytes: ` +
        `Ticketflow ${bytes(key)}, (w) ${bytes('w')}`;
      return [
        ratioRow(
          {
            ...common,
            metric: metric('Ticketflow at its defaults'),
            note:
              `info: at most ${PRODUCT_DEFAULTS.webhooks.perEndpointConcurrency} attempts per ` +
              `endpoint in flight (TICKETFLOW_WEBHOOK_ENDPOINT_CONCURRENCY), so one slow ` +
              `endpoint cannot take all ${PRODUCT_DEFAULTS.notifyConcurrency} slots; the rest ` +
              `wait 200–400 ms in delayed and ask again, while (w) keeps 64 in flight. ` +
              note('defaults'),
          },
          rates('defaults'),
          rates('w'),
        ),
        ratioRow(
          {
            ...common,
            metric: metric(`equal: ${PRODUCT_DEFAULTS.notifyConcurrency} per endpoint`),
            target: { on: 'ratio', op: '>=', value: 1.0, text: '≥ 1.0' },
            note: note('equal'),
          },
          rates('equal'),
          rates('w'),
        ),
      ];
    } finally {
      await removeWebhookEndpoint(stack.db, endpointId);
      await Promise.all([sink.close(), smtp.close()]);
    }
  },
};
