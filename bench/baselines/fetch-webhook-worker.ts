// Baseline (w): the webhook sender a user would write instead of Ticketflow's notification
// worker: a BullMQ worker at the product's notification concurrency that signs each job's body
// the Standard Webhooks way and POSTs it with fetch. No database: the body is in the job.
import { createHmac } from 'node:crypto';
import { parseConfig } from '@ticketflow/config';
import { env } from './env.ts';
import { runBaselineWorker } from './run-worker.ts';

const url = env('BENCH_WEBHOOK_URL');
// Decoded once: the HMAC key is the bytes behind `whsec_`.
const key = Buffer.from(env('BENCH_WEBHOOK_SECRET').replace(/^whsec_/, ''), 'base64');
// The product's per-attempt deadline: a careful sender never waits on a receiver forever.
const timeoutMs = parseConfig({}).webhooks.timeoutMs;

await runBaselineWorker<object>(
  async (job) => {
    const id = job.id ?? '';
    const body = JSON.stringify(job.data);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${mac}`,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read to the end, so the connection goes back to fetch's keep-alive pool.
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  },
  undefined,
  { name: 'notifications', concurrency: Number(env('TICKETFLOW_NOTIFY_CONCURRENCY')) },
);
