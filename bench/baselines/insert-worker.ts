// Baseline (d): the hand-written worker a user would write instead of Ticketflow: one knex
// INSERT per job, with the product's pool size and concurrency. No validation, no dedupe.
import knex from 'knex';
import { env } from './env.ts';
import { runBaselineWorker } from './run-worker.ts';

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

await runBaselineWorker<Reply>(
  async (job) => {
    await db('bench_replies').insert({
      reply_uid: job.data.replyid,
      ticket_id: job.data.ticket.id,
      message: job.data.message,
    });
  },
  () => db.destroy(),
);
