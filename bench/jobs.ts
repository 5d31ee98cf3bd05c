import { randomUUID } from 'node:crypto';
import { Queue, type JobType } from 'bullmq';
import type { Redis } from 'ioredis';
import { REPLY_JOB, REPLY_QUEUE, replyJobId, type ReplyJob } from '@ticketflow/contract';
import { jobCatalog } from '@ticketflow/queue';
import { MESSAGE } from './payloads.ts';
import { sleep } from './processes.ts';
import { PRODUCT_DEFAULTS, type BenchStack } from './stack.ts';

/** The product's defaults (TICKETFLOW_REPLY_ATTEMPTS / _BACKOFF_MS): every filled job uses them. */
const JOB_OPTIONS = jobCatalog(PRODUCT_DEFAULTS).replies.jobs.reply.options;
const FILL_BATCH = 1000;
/** States a job passes through before it is finished; the queue has drained when all are 0. */
const UNFINISHED: JobType[] = ['wait', 'active', 'prioritized', 'waiting-children'];
const STATES: JobType[] = [...UNFINISHED, 'delayed', 'failed'];

/** The orchestrator's handle on one prefix's `replies` queue (never a worker). */
export function openQueue(redis: Redis, prefix: string): Queue {
  return new Queue(REPLY_QUEUE, { connection: redis, prefix });
}

/** A valid contract-v1 reply job for one of the seeded client's tickets, as the ingress would enqueue it. */
function replyJob(stack: BenchStack, ticketId: number, noemail: boolean): ReplyJob {
  const replyid = randomUUID();
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { id: ticketId },
    author: { type: 'client', clientid: stack.seed.clientId, contactid: null },
    message: MESSAGE,
    markdown: true,
    status: null,
    noemail,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'api', principal: 'bench-client' },
    receivedAt: new Date().toISOString(),
  };
}

/**
 * Adds `count` jobs with addBulk in batches of 1000, with the product's job options. Client
 * replies: each emails the department unless `noemail`. They all go to the seeded ticket, or
 * in turn to each of `tickets` (see addTickets).
 */
export async function fillQueue(
  queue: Queue,
  stack: BenchStack,
  count: number,
  {
    noemail = false,
    tickets = [stack.seed.ticketId],
  }: { noemail?: boolean; tickets?: readonly number[] } = {},
): Promise<void> {
  for (let done = 0; done < count; done += FILL_BATCH) {
    const jobs = Array.from({ length: Math.min(FILL_BATCH, count - done) }, (_, i) => {
      const data = replyJob(stack, tickets[(done + i) % tickets.length]!, noemail);
      return {
        name: REPLY_JOB,
        data,
        opts: { ...JOB_OPTIONS, jobId: replyJobId(data.replyid) },
      };
    });
    await queue.addBulk(jobs);
  }
}

/**
 * Jobs waiting in a paused queue once producers have stopped: requests still in flight when the
 * load generator stopped are enqueued a few milliseconds later, so the count must hold still.
 */
export async function settledWaiting(queue: Queue): Promise<number> {
  const count = async () => {
    const counts = await queue.getJobCounts('wait', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  let last = await count();
  for (;;) {
    await sleep(200);
    const now = await count();
    if (now === last) return now;
    last = now;
  }
}

/**
 * Resolves with the time the queue first had no unfinished job, polled every 10 ms (the runs
 * last seconds, so the poll adds under 1 %). The bench adds no delayed job, so a delayed one is
 * a failed attempt waiting for its retry: that, or a final failure, makes the run invalid at
 * once instead of waiting out the backoff.
 */
export async function waitForDrain(queue: Queue, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.getJobCounts(...STATES);
    const now = performance.now();
    if ((counts.failed ?? 0) > 0 || (counts.delayed ?? 0) > 0) {
      const [job] = [...(await queue.getFailed(0, 0)), ...(await queue.getDelayed(0, 0))];
      throw new Error(
        `${counts.failed} failed and ${counts.delayed} retrying job(s), e.g. ${job?.id}: ${job?.failedReason}`,
      );
    }
    const left = UNFINISHED.reduce((n, state) => n + (counts[state] ?? 0), 0);
    if (left === 0) return now;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${left} jobs left`);
    await sleep(10);
  }
}

/**
 * `count` more tickets like the seeded one (same department, client and contact), for scenarios
 * whose replies should spread over tickets as a deployment's do rather than all lock one.
 */
export async function addTickets(
  stack: BenchStack,
  label: string,
  count: number,
): Promise<number[]> {
  const rows = await stack.db.raw<{ rows: Array<{ id: number }> }>(
    `INSERT INTO tickets (tid, department_id, client_id, contact_id, name, email, subject, message)
     SELECT ? || '-' || g, department_id, client_id, contact_id, name, email, subject, message
     FROM tickets, generate_series(1, ?) AS g WHERE id = ?
     RETURNING id`,
    [label, count, stack.seed.ticketId],
  );
  return rows.rows.map((r) => r.id);
}

/** Rows in a table of the bench database (persisted replies, baseline inserts). */
export async function countRows(stack: BenchStack, table: string): Promise<number> {
  const row = await stack.db(table).count<{ n: string }[]>({ n: '*' });
  return Number(row[0]?.n ?? 0);
}

/** The newest reply id: replies stored later have greater ids (a scenario's own, counted apart). */
export async function lastReplyId(stack: BenchStack): Promise<number> {
  const row = await stack.db('ticket_replies').max<{ id: number | null }[]>({ id: 'id' });
  return row[0]?.id ?? 0;
}
