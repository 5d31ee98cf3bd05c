import type { Queue } from 'bullmq';
import {
  addWebhookEndpoint,
  REPLY_CREATED_EVENT,
  removeWebhookEndpoint,
  setWebhookEndpointEnabled,
} from '@ticketflow/db';
import { newWebhookSecret } from '@ticketflow/worker';
import { fillQueue, lastReplyId, openQueue } from '../jobs.ts';
import {
  notificationEnv,
  openNotificationQueue,
  untilDelivered,
  waitIdle,
} from '../notifications.ts';
import { sleep } from '../processes.ts';
import { inRoundOrder, median, ratioRow, type Scenario } from '../rounds.ts';
import { startSmtpSink } from '../smtp-sink.ts';
import type { BenchStack } from '../stack.ts';
import { startWebhookSink, type WebhookSink } from '../webhook-sink.ts';

/**
 * A steady, modest stream: 100 replies/s for 5 s is 500 healthy deliveries per side (the p99 is
 * the 5th slowest). At 200/s the healthy endpoint alone now and then has 16 attempts in flight,
 * and its own jobs start cycling through delayed: p50 alone went from 16 ms in one run to 1.6 s
 * in the next, and the ratio would measure that instead of the neighbour. A side lasts about
 * 5 s alone and 10 s with the neighbour (its last requests are answered 5 s late).
 */
const RATE = 100;
const STREAM_S = 5;
const WARMUP_S = 1;
/** The neighbour answers every request 200, after this long, holding the connection open. */
const SLOW_ANSWER_MS = 5000;
const TICK_MS = 10;

type Key = 'alone' | 'neighbour';

interface Latencies {
  p50: number;
  p99: number;
  /** Requests the slow neighbour received while the stream ran. */
  neighbourRequests: number;
}

/** Adds `rate` reply jobs per second for `seconds`, on a fixed schedule (no email: webhooks only). */
async function streamReplies(
  queue: Queue,
  stack: BenchStack,
  rate: number,
  seconds: number,
): Promise<void> {
  const total = rate * seconds;
  const start = performance.now();
  for (let sent = 0; sent < total; await sleep(TICK_MS)) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    if (due > sent) await fillQueue(queue, stack, due - sent, { noemail: true });
    sent = Math.max(sent, due);
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * Per delivery to the healthy endpoint: when it reached the receiver minus its outbox row's
 * `created_at` (the reply statement's time), so the figure is the notification path alone:
 * dispatch, queue, the worker's slot, the POST.
 */
async function deliveryLatencies(
  stack: BenchStack,
  endpointId: number,
  before: number,
  sink: WebhookSink,
  label: string,
): Promise<number[]> {
  const rows = await stack
    .db('outbox')
    .where('endpoint_id', endpointId)
    .andWhere('reply_id', '>', before)
    .select<Array<{ id: string; created_at: Date }>>('id', 'created_at');
  return rows.map((row) => {
    const at = sink.arrivals.byId.get(`msg_${row.id.replaceAll('-', '')}`);
    if (at === undefined) throw new Error(`${label}: outbox row ${row.id} never reached the sink`);
    return performance.timeOrigin + at - row.created_at.getTime();
  });
}

/**
 * A healthy endpoint's p99 delivery latency under a steady stream of replies, alone and with a
 * neighbour endpoint (subscribed to the same event) that answers after 5 s: the per-endpoint
 * cap (16 in flight) is what should keep the slow one from taking the notification worker's
 * 64 slots. One `serve --worker` at the product's defaults; the neighbour is added for its side
 * and, once the healthy deliveries are in, disabled (its backlog is dead-lettered at once
 * instead of trickling out at 16 per 5 s into the next side) and removed.
 */
export const webhookIsolationScenario: Scenario = {
  id: 'webhook-isolation',
  async run(ctx) {
    const { stack } = ctx;
    const secret = newWebhookSecret();
    const healthy = await startWebhookSink({ secret });
    const slow = await startWebhookSink({ secret, answerAfterMs: SLOW_ANSWER_MS });
    // Replies carry noemail; SMTP_URL still points at a sink so no mail could land on disk.
    const smtp = await startSmtpSink();
    const endpoint = (url: string) =>
      addWebhookEndpoint(stack.db, { url, secret, events: [REPLY_CREATED_EVENT] });
    const healthyId = await endpoint(healthy.url);
    try {
      const prefix = stack.prefix('isolation');
      await ctx.start(
        'isolation-worker',
        { kind: 'ticketflow', mode: 'worker' },
        prefix,
        notificationEnv(smtp.url),
      );
      const replies = openQueue(stack.redis, prefix);
      const notifications = openNotificationQueue(stack.redis, prefix);

      const streamAndMeasure = async (seconds: number, label: string): Promise<Latencies> => {
        healthy.reset();
        slow.reset();
        const before = await lastReplyId(stack);
        await streamReplies(replies, stack, RATE, seconds);
        await untilDelivered(healthy.arrivals, RATE * seconds, notifications, label);
        const neighbourRequests = slow.arrivals.count;
        const latencies = await deliveryLatencies(stack, healthyId, before, healthy, label);
        if (latencies.length !== RATE * seconds || healthy.arrivals.repeats > 0) {
          throw new Error(
            `${label}: ${latencies.length} healthy deliveries recorded for ` +
              `${RATE * seconds} replies, ${healthy.arrivals.repeats} repeated`,
          );
        }
        return {
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
          neighbourRequests,
        };
      };
      const measure = async (key: Key, seconds: number, label: string): Promise<Latencies> => {
        const neighbourId = key === 'neighbour' ? await endpoint(slow.url) : undefined;
        let latencies: Latencies;
        try {
          latencies = await streamAndMeasure(seconds, label);
        } catch (error) {
          if (neighbourId !== undefined) await removeWebhookEndpoint(stack.db, neighbourId);
          throw error;
        }
        if (neighbourId !== undefined) {
          await setWebhookEndpointEnabled(stack.db, neighbourId, false, 'bench: side over');
        }
        await waitIdle(notifications, label);
        if (neighbourId !== undefined) await removeWebhookEndpoint(stack.db, neighbourId);
        return latencies;
      };

      // Not measured: connections opened, pools filled, code paths compiled.
      await measure('alone', WARMUP_S, 'webhook-isolation warm-up');
      const figures = new Map<Key, Latencies[]>([
        ['alone', []],
        ['neighbour', []],
      ]);
      for (let round = 0; round < ctx.rounds; round++) {
        for (const key of inRoundOrder(round, ['alone', 'neighbour'] as const)) {
          const label = `webhook-isolation ${key} round ${round + 1}`;
          figures.get(key)!.push(await measure(key, STREAM_S, label));
        }
      }
      await Promise.all([replies.close(), notifications.close()]);

      const of = (key: Key, pick: (l: Latencies) => number) => figures.get(key)!.map(pick);
      const p50 = (key: Key) => median(of(key, (l) => l.p50)).toFixed(0);
      return [
        ratioRow(
          {
            scenario: 'webhook-isolation',
            metric: `healthy endpoint p99 delivery latency, ${RATE} replies/s for ${STREAM_S} s`,
            unit: 'ms',
            baselineName: 'alone',
            target: { on: 'ratio', op: '<=', value: 2.0, text: '≤ 2.0' },
            note:
              `Ticketflow = with a neighbour endpoint answering after ${SLOW_ANSWER_MS / 1000} s ` +
              `(it received a median ${median(of('neighbour', (l) => l.neighbourRequests))} ` +
              `requests per side). Latency = arrival at the receiver − the outbox row's ` +
              `created_at; p50 with ${p50('neighbour')} ms, alone ${p50('alone')} ms`,
          },
          of('neighbour', (l) => l.p99),
          of('alone', (l) => l.p99),
        ),
      ];
    } finally {
      await removeWebhookEndpoint(stack.db, healthyId);
      await Promise.all([healthy.close(), slow.close(), smtp.close()]);
    }
  },
};
