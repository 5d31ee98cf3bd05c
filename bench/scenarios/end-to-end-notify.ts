import type { Queue } from 'bullmq';
import {
  addWebhookEndpoint,
  REPLY_CREATED_EVENT,
  removeWebhookEndpoint,
  setWebhookEndpointEnabled,
} from '@ticketflow/db';
import { newWebhookSecret } from '@ticketflow/worker';
import { CPU_SPLIT_LEGEND, cpuSplitNote, perUnit, type CpuSplit } from '../cpu.ts';
import { lastReplyId, openQueue, waitForDrain } from '../jobs.ts';
import { measureLoadCold, type Target } from '../load.ts';
import {
  notificationEnv,
  openNotificationQueue,
  untilDelivered,
  waitIdle,
} from '../notifications.ts';
import { REPLY_PATH, urlencodedPayload } from '../payloads.ts';
import { sleep, type Child } from '../processes.ts';
import { inRoundOrder, ratioRow, type Scenario } from '../rounds.ts';
import { startSmtpSink, type SmtpSink } from '../smtp-sink.ts';
import type { BenchStack } from '../stack.ts';
import { startWebhookSink, type WebhookSink } from '../webhook-sink.ts';

/**
 * Seconds of load per run, shorter than LOAD.durationS: with notifications the drain lasts many
 * times the load (2 s of load took ~12 s here, 5 s over a minute: the longer the backlog, the
 * more webhook jobs cycle over the endpoint's cap). Both sides get the same.
 */
const LOAD_S = 2;
/** Load of the warm-up before the first round (not measured): pools, agents, SMTP connections. */
const WARMUP_S = 1;

type Key = 'notify' | 'quiet';

interface Side {
  key: Key;
  ingress: Child;
  worker: Child;
  replies: Queue;
  notifications: Queue;
  target: Target;
}

interface Run {
  repliesPerSecond: number;
  /** CPU µs per persisted reply by who spent it. */
  cpu: CpuSplit;
}

/** The peers and the one endpoint the notifying side delivers to. */
interface Peers {
  smtp: SmtpSink;
  hook: WebhookSink;
  endpointId: number;
}

/** How long the stored count must hold still before the run's replies are all in. */
const SETTLE_MS = 500;
const SETTLE_POLL_MS = 25;

/**
 * Replies stored above `before` once none has been added for SETTLE_MS, and when the last was
 * seen (`performance.now()`). The load generator stops with one request in flight per
 * connection; the ingress still accepts those and the worker stores them after the queue looked
 * drained. Counted here, they belong to this run, and neither to its expected notifications'
 * shortfall nor to the next run's window.
 */
async function settledReplies(
  stack: BenchStack,
  before: number,
): Promise<{ count: number; lastAt: number }> {
  const countNow = async () =>
    Number(
      (
        await stack.db('ticket_replies').where('id', '>', before).count<{ n: string }[]>({ n: '*' })
      )[0]?.n,
    );
  let count = await countNow();
  let lastAt = 0;
  let stillSince = performance.now();
  while (performance.now() - stillSince < SETTLE_MS) {
    await sleep(SETTLE_POLL_MS);
    const now = await countNow();
    if (now !== count) {
      count = now;
      lastAt = stillSince = performance.now();
    }
  }
  return { count, lastAt };
}

/**
 * The end-to-end "together" run: `durationS` of load on the ingress (LOAD's connections) while
 * the worker stores, then until the reply queue has drained, the stored count has settled and,
 * on the notifying side, the SMTP sink and the webhook receiver have each had one delivery per
 * stored reply. Replies per second over that whole window.
 */
async function runTogether(
  stack: BenchStack,
  side: Side,
  peers: Peers,
  durationS: number,
  label: string,
): Promise<Run> {
  const notify = side.key === 'notify';
  // The reply statement fans out to the endpoints enabled at its commit: only this side's.
  if (notify) await setWebhookEndpointEnabled(stack.db, peers.endpointId, true);
  try {
    peers.hook.reset();
    peers.smtp.arrivals.reset();
    const before = await lastReplyId(stack);
    const meter = stack.cpuMeter([side.ingress.pid, side.worker.pid]);
    const start = performance.now();
    const load = await measureLoadCold(label, side.target, durationS);
    const drained = await waitForDrain(side.replies);
    const stored = await settledReplies(stack, before);
    let end = Math.max(drained, stored.lastAt);
    const persisted = stored.count;
    if (persisted < load.ok)
      throw new Error(`${label}: ${load.ok} accepted but ${persisted} stored`);
    if (notify) {
      const hookAt = await untilDelivered(
        peers.hook.arrivals,
        persisted,
        side.notifications,
        `${label} (webhooks)`,
      );
      const mailAt = await untilDelivered(
        peers.smtp.arrivals,
        persisted,
        side.notifications,
        `${label} (email)`,
      );
      end = Math.max(end, hookAt, mailAt);
    }
    const cpu = perUnit(meter(), persisted);
    await waitIdle(side.notifications, label);
    await checkOutbox(stack, before, notify ? persisted : 0, peers, label);
    return { repliesPerSecond: persisted / ((end - start) / 1000), cpu };
  } finally {
    if (notify) await setWebhookEndpointEnabled(stack.db, peers.endpointId, false);
  }
}

/**
 * Outside the clock: every reply of the notifying side has its email and its webhook recorded
 * delivered, each sent once; the quiet side wrote no outbox row at all.
 */
async function checkOutbox(
  stack: BenchStack,
  before: number,
  replies: number,
  peers: Peers,
  label: string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await stack
      .db('outbox')
      .where('reply_id', '>', before)
      .select<Array<{ rows: string; delivered: string }>>(
        stack.db.raw('count(*) AS rows'),
        stack.db.raw('count(delivered_at) AS delivered'),
      );
    const rows = Number(row?.rows);
    const delivered = Number(row?.delivered);
    const sent = peers.hook.arrivals.count + peers.smtp.arrivals.count;
    if (rows !== 2 * replies || sent !== rows || peers.hook.arrivals.repeats > 0) {
      throw new Error(
        `${label}: ${replies} replies wrote ${rows} outbox rows, the sinks had ${sent} ` +
          `deliveries (${peers.hook.arrivals.repeats} repeated); expected two each`,
      );
    }
    // The worker records a delivery just after the peer has answered.
    if (delivered === rows) return;
    if (Date.now() > deadline) throw new Error(`${label}: ${delivered} of ${rows} recorded`);
    await sleep(50);
  }
}

/**
 * The end-to-end "together" figure with notifications against the same without, in the same
 * rounds. With: each client reply emails the department (SMTP sink) and posts one webhook (a
 * receiver answering 200 at once), and the run lasts until both have arrived. Without: the same
 * body with `noemail=1`, the endpoint disabled. Each side has its own ingress, worker and
 * prefix, so neither inherits the other's queue, pools or backlog; the endpoint is a database
 * row both workers would read, so it is enabled only while the notifying side runs.
 */
export const endToEndNotifyScenario: Scenario = {
  id: 'end-to-end-notify',
  async run(ctx) {
    const { stack } = ctx;
    const secret = newWebhookSecret();
    const hook = await startWebhookSink({ secret });
    const smtp = await startSmtpSink();
    const endpointId = await addWebhookEndpoint(stack.db, {
      url: hook.url,
      secret,
      events: [REPLY_CREATED_EVENT],
    });
    const peers = { smtp, hook, endpointId };
    try {
      await setWebhookEndpointEnabled(stack.db, endpointId, false);
      const sides: Side[] = [];
      for (const key of ['notify', 'quiet'] as const) {
        const prefix = stack.prefix(`e2e-${key}`);
        const env = notificationEnv(smtp.url);
        const ingress = await ctx.start(
          `e2e-${key}-ingress`,
          { kind: 'ticketflow', mode: 'ingress' },
          prefix,
          env,
        );
        const worker = await ctx.start(
          `e2e-${key}-worker`,
          { kind: 'ticketflow', mode: 'worker' },
          prefix,
          env,
        );
        const side: Side = {
          key,
          ingress,
          worker,
          replies: openQueue(stack.redis, prefix),
          notifications: openNotificationQueue(stack.redis, prefix),
          target: {
            url: ingress.url + REPLY_PATH,
            token: stack.token,
            payload: urlencodedPayload(stack.seed.ticketId, { noemail: key === 'quiet' }),
          },
        };
        await runTogether(stack, side, peers, WARMUP_S, `end-to-end-notify ${key} warm-up`);
        sides.push(side);
      }

      const runs = new Map<Key, Run[]>([
        ['notify', []],
        ['quiet', []],
      ]);
      for (let round = 0; round < ctx.rounds; round++) {
        for (const side of inRoundOrder(round, sides)) {
          const label = `end-to-end-notify ${side.key} round ${round + 1}`;
          runs.get(side.key)!.push(await runTogether(stack, side, peers, LOAD_S, label));
        }
      }
      await Promise.all(sides.flatMap((s) => [s.replies.close(), s.notifications.close()]));

      const rates = (key: Key) => runs.get(key)!.map((r) => r.repliesPerSecond);
      const cpu = (key: Key) => cpuSplitNote(runs.get(key)!.map((r) => r.cpu));
      return [
        ratioRow(
          {
            scenario: 'end-to-end-notify',
            metric: 'end to end with email + 1 webhook per reply: replies/s',
            unit: 'replies/s',
            baselineName: 'the same without notifications',
            target: { on: 'ratio', op: '>=', value: 0.8, text: '≥ 0.8' },
            note:
              `drained = replies stored and both notifications of each at the sinks. CPU per ` +
              `reply (${CPU_SPLIT_LEGEND}; with: the load generator's column includes the SMTP ` +
              `sink and the webhook receiver): with ${cpu('notify')}; without ${cpu('quiet')}`,
          },
          rates('notify'),
          rates('quiet'),
        ),
      ];
    } finally {
      await removeWebhookEndpoint(stack.db, endpointId);
      await Promise.all([hook.close(), smtp.close()]);
    }
  },
};
