import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLY_QUEUE, replyJobId } from '@ticketflow/contract';
import { addWebhookEndpoint } from '@ticketflow/db';
import { createRedis } from '@ticketflow/queue';
import { redisUrl } from '@ticketflow/testing';
import {
  startSmtpPeer,
  startWebhookReceiver,
  type SmtpPeer,
  type WebhookReceiver,
} from '@ticketflow/testing/peers';
import { newWebhookSecret } from '../src/index.ts';
import { replyJob, until, useWorkerFixture } from './worker-fixture.ts';

const fixture = useWorkerFixture({ tidPrefix: 'CRASH', subject: 'crash points' });
let smtp: SmtpPeer;
let hooks: WebhookReceiver;

/** What every spawned worker needs to deliver to the peers, with a one-second outbox sweep. */
function peersEnv(): Record<string, string> {
  return {
    SMTP_URL: smtp.url,
    TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
    TICKETFLOW_OUTBOX_SWEEP_SECONDS: '1',
  };
}

beforeAll(async () => {
  smtp = await startSmtpPeer();
  const secret = newWebhookSecret();
  hooks = await startWebhookReceiver(secret);
  await addWebhookEndpoint(fixture.db, {
    url: hooks.url,
    secret,
    events: ['ticket.reply.created'],
  });
});
afterAll(async () => {
  await hooks?.close();
  await smtp?.close();
});

/** Long enough for a duplicate delivery, were there one, to arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

describe('a worker process SIGKILLed at a crash point', () => {
  it('right after the reply commit: the outbox sweep delivers each notification once', async () => {
    const ticketId = await fixture.newTicket();
    const data = replyJob(ticketId, {
      author: { type: 'client', clientid: fixture.seed.clientId, contactid: null },
      noemail: false,
    });
    const job = await fixture.enqueue(data);
    const doomed = fixture.spawnWorker({
      ...peersEnv(),
      TICKETFLOW_FAULT_POINTS: 'after-reply-commit',
    });
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Committed with its two outbox rows, and neither enqueued: what a crash leaves behind.
    expect(await fixture.replyCount({ dedupe_key: data.dedupeKey })).toBe(1);
    const outbox = () =>
      fixture
        .db('outbox as o')
        .join('ticket_replies as r', 'r.id', 'o.reply_id')
        .where('r.reply_uid', data.replyid)
        .select<Array<{ channel: string; dispatched_at: Date | null; delivered_at: Date | null }>>(
          'o.channel',
          'o.dispatched_at',
          'o.delivered_at',
        );
    expect((await outbox()).map((r) => [r.channel, r.dispatched_at])).toEqual(
      expect.arrayContaining([
        ['email', null],
        ['webhook', null],
      ]),
    );

    const heir = fixture.spawnWorker(peersEnv());
    await until(
      'both notifications delivered',
      async () => (await outbox()).every((r) => r.delivered_at !== null),
      20_000,
      heir.output,
    );
    await settle();
    const mails = smtp.received.filter((m) => m.header('x-ticketflow-reply-id') === data.replyid);
    expect(mails.map((m) => m.to)).toEqual([['support@demo.example']]);
    const posts = hooks.received.filter((r) => r.body.includes(data.replyid));
    expect(posts).toHaveLength(1);
    expect(posts[0]!.verified).toBe(true);
    // The re-run of the reply job found it stored: a duplicate, which writes no second outbox.
    expect(await job.waitUntilFinished(fixture.events, 10_000)).toMatchObject({
      outcome: 'duplicate',
      notifications: 0,
    });
    expect(await outbox()).toHaveLength(2);
  });

  it('right after the dead letter is written: the row is there, and the re-run leaves one', async () => {
    const replyid = randomUUID();
    const job = await fixture.enqueue({ v: 1, replyid } as never, replyJobId(replyid));
    const doomed = fixture.spawnWorker({ TICKETFLOW_FAULT_POINTS: 'after-dead-letter' });
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const letters = () =>
      fixture
        .db('dead_letters')
        .where({ queue: REPLY_QUEUE, job_id: job.id })
        .select<Array<{ reason: string; attempts: number }>>('reason', 'attempts');
    // Written before BullMQ heard of the failure: the process died with the job still active.
    expect(await letters()).toEqual([{ reason: 'invalid_job', attempts: 1 }]);
    expect(await job.getState()).toBe('active');

    const heir = fixture.spawnWorker();
    await until(
      'the job to fail',
      async () => (await job.getState()) === 'failed',
      15_000,
      heir.output,
    );
    expect(await letters()).toEqual([{ reason: 'invalid_job', attempts: 1 }]);
  });
});

describe('the dead-letter reconciliation', () => {
  it('writes the dead letter of a job that failed without our processor', async () => {
    const ticketId = await fixture.newTicket();
    const job = await fixture.enqueue(replyJob(ticketId));
    // A worker that is not ours (an old version, a crash loop the stalled check ended): BullMQ
    // fails the job, and no dead letter is written.
    const connection = createRedis(redisUrl(), 'worker');
    const foreign = new Worker(
      REPLY_QUEUE,
      () => Promise.reject(new Error('simulated crash loop')),
      { connection, prefix: fixture.prefix },
    );
    try {
      await until('the job to fail', async () => (await job.getState()) === 'failed');
    } finally {
      await foreign.close();
      connection.disconnect();
    }
    expect(await fixture.db('dead_letters').where({ job_id: job.id }).first()).toBeUndefined();

    const ours = fixture.spawnWorker({ TICKETFLOW_OUTBOX_SWEEP_SECONDS: '1' });
    const letter = await until(
      'the reconciled dead letter',
      () =>
        fixture
          .db('dead_letters')
          .where({ queue: REPLY_QUEUE, job_id: job.id })
          .first<{ reason: string; error: string; attempts: number } | undefined>(
            'reason',
            'error',
            'attempts',
          ),
      15_000,
      ours.output,
    );
    expect(letter).toEqual({
      reason: 'retries_exhausted',
      error: 'simulated crash loop',
      attempts: 3,
    });
  });
});
