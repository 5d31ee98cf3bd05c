import type { Queue } from 'bullmq';
import { deleteKeys } from '@ticketflow/testing/redis';
import { CPU_SPLIT_LEGEND, cpuSplitNote } from '../cpu.ts';
import { openQueue } from '../jobs.ts';
import { InvalidRun } from '../load.ts';
import type { Child } from '../processes.ts';
import { replyMail, SUPPORT_ADDRESS } from '../reply-mail.ts';
import { inRoundOrder, ratioRow, type Row, type Scenario } from '../rounds.ts';
import { measureSmtp, type SmtpFigures, type SmtpLoad } from '../smtp-load.ts';
import type { BenchStack } from '../stack.ts';

const BASELINE = '(s) smtp-server + postal-mime + queue.add';
/**
 * 16 connections, both sides at equal settings (an MTA delivering a busy mailbox), and 1 (a
 * single delivery's latency). Each measured batch lasts a few seconds on Ticketflow's side;
 * each run's warm-up opens the pool's connections, so no SMTP greeting is on the clock.
 */
const LOADS: readonly SmtpLoad[] = [
  { connections: 16, warmup: 200, count: 3000 },
  { connections: 1, warmup: 50, count: 1000 },
];
/**
 * Sent to each side once before the rounds and not measured: in batches of 1,000 from a cold
 * start, both servers and the orchestrator's nodemailer got faster until about 3,000 messages
 * (about twice as fast by then; their code compiled) and held level after.
 */
const START_UP: SmtpLoad = { connections: 16, warmup: 0, count: 4000 };

interface Side {
  key: 'ticketflow' | 'baseline';
  child: Child;
  prefix: string;
  /** The orchestrator's handle on the side's reply queue, to count what it holds. */
  queue: Queue;
}

/**
 * The email bridge over SMTP (`ticketflow bridge --smtp`) against baseline (s): the same
 * replies to the seeded ticket, each with a Message-ID of its own, over nodemailer pools of 16
 * and of 1 connection. Between runs each side's queue is emptied and, for the bridge, its
 * records deleted, so every run starts as the first did.
 */
export const bridgeSmtpScenario: Scenario = {
  id: 'bridge-smtp',
  async run(ctx) {
    const { stack } = ctx;
    const sides: Side[] = [];
    for (const [key, program] of [
      ['ticketflow', { kind: 'ticketflow', mode: 'bridge' }],
      ['baseline', { kind: 'baseline', script: 'smtp-enqueue.ts', smtp: true }],
    ] as const) {
      const prefix = stack.prefix(`bridge-${key}`);
      const child = await ctx.start(`bridge-smtp-${key}`, program, prefix);
      sides.push({ key, prefix, child, queue: openQueue(stack.redis, prefix) });
    }
    try {
      return await measure(stack, sides, ctx.rounds);
    } finally {
      await Promise.all(sides.map((s) => s.queue.close()));
    }
  },
};

async function measure(stack: BenchStack, sides: Side[], rounds: number): Promise<Row[]> {
  const compose = () => replyMail(stack.seed);
  const envelope = { from: stack.seed.contactEmail, to: SUPPORT_ADDRESS };
  const figures = LOADS.map(() => ({
    ticketflow: [] as SmtpFigures[],
    baseline: [] as SmtpFigures[],
  }));
  // Every run starts as the first did: an empty queue and, for the bridge, no records.
  const send = async (side: Side, load: SmtpLoad, label: string) => {
    const meter = () => stack.cpuMeter([side.child.pid]);
    const sent = await measureSmtp(label, side.child.smtpPort!, load, compose, envelope, meter);
    await checkPosted(stack, side, label, load.warmup + load.count);
    await deleteKeys(stack.redis, `${side.prefix}:*`);
    if (side.key === 'ticketflow') await stack.db('inbound_emails').del();
    return sent;
  };
  for (const side of sides) await send(side, START_UP, `bridge-smtp ${side.key} start-up`);
  for (let round = 0; round < rounds; round++) {
    for (const [i, load] of LOADS.entries()) {
      for (const side of inRoundOrder(round, sides)) {
        const label = `bridge-smtp ${side.key} C=${load.connections} round ${round + 1}`;
        figures[i]![side.key].push(await send(side, load, label));
      }
    }
  }

  const rows: Row[] = [];
  for (const [i, load] of LOADS.entries()) {
    const { ticketflow, baseline } = figures[i]!;
    const title = `bridge-smtp C=${load.connections}`;
    const common = { scenario: 'bridge-smtp', baselineName: BASELINE };
    const note =
      `CPU per message (${CPU_SPLIT_LEGEND}): Ticketflow ` +
      `${cpuSplitNote(ticketflow.map((f) => f.cpu!))}; (s) ` +
      `${cpuSplitNote(baseline.map((f) => f.cpu!))}`;
    rows.push(
      ratioRow(
        { ...common, metric: `${title}: messages/s`, unit: 'msg/s', note },
        ticketflow.map((f) => f.messagesPerSecond),
        baseline.map((f) => f.messagesPerSecond),
      ),
      ratioRow(
        { ...common, metric: `${title}: p99 latency`, unit: 'ms' },
        ticketflow.map((f) => f.p99Ms),
        baseline.map((f) => f.p99Ms),
      ),
    );
  }
  return rows;
}

/**
 * A run is valid when every message answered 250 became a job (and, for the bridge, a
 * `posted` record): a 250 for a message dropped as automatic would have measured another path.
 */
async function checkPosted(stack: BenchStack, side: Side, label: string, sent: number) {
  const problems: string[] = [];
  const jobs = await side.queue.getWaitingCount();
  if (jobs !== sent) problems.push(`${jobs} jobs queued`);
  if (side.key === 'ticketflow') {
    const records = await stack
      .db('inbound_emails')
      .select('outcome', 'reason')
      .count<{ outcome: string; reason: string | null; n: string }[]>({ n: '*' })
      .groupBy('outcome', 'reason');
    const posted = records.find((r) => r.outcome === 'posted');
    if (Number(posted?.n ?? 0) !== sent || records.length > 1) {
      const outcomes = records.map((r) => `${r.n} ${r.outcome} ${r.reason ?? ''}`.trim());
      problems.push(`records: ${outcomes.join(', ') || 'none'}`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidRun(`${label}: ${sent} messages answered 250, ${problems.join('; ')}`);
  }
}
