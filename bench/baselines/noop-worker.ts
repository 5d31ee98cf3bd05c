// Baseline (c): the ceiling of BullMQ on this machine: fetch, complete, nothing else.
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { env } from './env.ts';

const worker = new Worker('replies', async () => {}, {
  connection: new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null }),
  prefix: env('TICKETFLOW_QUEUE_PREFIX'),
  concurrency: Number(env('TICKETFLOW_WORKER_CONCURRENCY')),
});

// The orchestrator starts filling only once this answers: the worker is connected by then.
await worker.waitUntilReady();
const health = createServer((_req, res) => res.end('ok')).listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  health.close();
  void worker.close().then(() => process.exit(0));
});
