import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLY_JOB, replyJobId } from '@ticketflow/contract';
import { parseConfig } from '@ticketflow/config';
import { jobCatalog, jobOptions } from '@ticketflow/queue';
import { redisUrl } from '@ticketflow/testing';
import { replyJob, until } from '@ticketflow/testing/peers';
import { startNotifyingStack, type NotifyingStack } from './notifying-stack.ts';
import { useCliFixture } from './run-cli.ts';

// The whole dead-letter story with the real processes: a poison job dies on its first attempt,
// the operator fixes the cause and runs `dlq replay`, and exactly one reply and one set of
// notifications come of it however often the replay is repeated.
const cli = useCliFixture();
let stack: NotifyingStack;
let replies: Queue;
const catalog = jobCatalog(parseConfig({}));

beforeAll(async () => {
  stack = await startNotifyingStack(cli);
  replies = new Queue('replies', {
    connection: { url: redisUrl() },
    prefix: stack.env.TICKETFLOW_QUEUE_PREFIX!,
  });
}, 60_000);
afterAll(async () => {
  await replies?.close();
  await stack?.close();
});

describe('dlq replay after fixing the cause', () => {
  it(
    'stores one reply and sends one email and one webhook, once',
    { timeout: 120_000 },
    async () => {
      const db = cli.database.db;
      const replyid = randomUUID();
      // A producer (an email bridge, say) sets a status nobody has configured yet.
      const job = replyJob(stack.seed.ticketId, {
        replyid,
        dedupeKey: `dlq-e2e:${replyid}`,
        author: { type: 'staff', admin: 'Night Shift' },
        message: 'Escalated to the network team.',
        status: 'Escalated',
        noemail: false,
      });
      await replies.add(
        REPLY_JOB,
        job,
        jobOptions(catalog.replies.jobs.reply, replyJobId(replyid)),
      );
      const letter = await until(
        'the dead letter',
        () =>
          db('dead_letters')
            .where({ job_id: replyJobId(replyid) })
            .first<{ id: number; reason: string; attempts: number } | undefined>(
              'id',
              'reason',
              'attempts',
            ),
        30_000,
      );
      expect(letter).toMatchObject({ reason: 'status_not_found', attempts: 1 });

      await db('ticket_statuses').insert({ title: 'Escalated', is_core: false, sort: 7 });
      const replay = await cli.run(['dlq', 'replay', String(letter.id)], stack.env);
      expect(replay.code, replay.stderr).toBe(0);

      const mailsOf = () =>
        stack.smtp.received.filter((m) => m.header('x-ticketflow-reply-id') === replyid);
      const hooksOf = () => stack.hooks.accepted().filter((r) => r.body.includes(replyid));
      await until(
        'the email and the webhook',
        () => mailsOf().length > 0 && hooksOf().length > 0,
        30_000,
      );

      // Again, and everything at once: nothing more comes of it.
      expect((await cli.run(['dlq', 'replay', String(letter.id)], stack.env)).code).toBe(1);
      expect((await cli.run(['dlq', 'replay', '--all'], stack.env)).code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      const stored = await db('ticket_replies').where({ dedupe_key: job.dedupeKey }).select('id');
      expect(stored).toHaveLength(1);
      expect(mailsOf().map((m) => m.to)).toEqual([['contact@demo.example']]);
      expect(hooksOf()).toHaveLength(1);
      const ticket = await db('tickets')
        .where({ id: stack.seed.ticketId })
        .first<{ status: string }>('status');
      expect(ticket.status).toBe('Escalated');
    },
  );
});
