// Baseline (d): the hand-written worker a user would write instead of Ticketflow: one knex
// INSERT per job, with the product's pool size and concurrency. No validation, no dedupe.
import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import knex from 'knex';
import { env } from './env.ts';

const db = knex({
  client: 'pg',
  connection: env('DATABASE_URL'),
  pool: { min: 0, max: Number(env('TICKETFLOW_DB_POOL_MAX')) },
});

interface Reply {
  replyid: string;
  ticket: { id: number };
  message: string;
}

const worker = new Worker<Reply>(
  'replies',
  async (job) => {
    await db('bench_replies').insert({
      reply_uid: job.data.replyid,
      ticket_id: job.data.ticket.id,
      message: job.data.message,
    });
  },
  {
    connection: new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null }),
    prefix: env('TICKETFLOW_QUEUE_PREFIX'),
    concurrency: Number(env('TICKETFLOW_WORKER_CONCURRENCY')),
  },
);

await worker.waitUntilReady();
const health = createServer((_req, res) => res.end('ok')).listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  health.close();
  void worker
    .close()
    .then(() => db.destroy())
    .then(() => process.exit(0));
});
