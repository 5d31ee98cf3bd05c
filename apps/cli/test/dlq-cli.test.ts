import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { describe, it } from 'vitest';
import {
  addWebhookEndpoint,
  findDeadLetter,
  insertTestEvent,
  recordDeadLetter,
  type Db,
  type DeadLetter,
} from '@ticketflow/db';
import { redisUrl } from '@ticketflow/testing';
import { newWebhookSecret } from '@ticketflow/worker';
import { lines, readJob, useCliFixture } from './run-cli.ts';

const cli = useCliFixture();
/** Tests run a few commands in a row while the others spawn theirs: tsx start-up adds up. */
const COMMANDS_TIMEOUT_MS = 60_000;
/** How long a test waits for BullMQ to fail a job it refuses. */
const FAIL_DEADLINE_MS = 10_000;
const MESSAGE = 'My card ends in 4242, please refund';

/** A reply job as the ingress enqueues it: a guest's message with an inline attachment. */
function replyPayload(replyid = randomUUID()) {
  return {
    v: 1,
    replyid,
    dedupeKey: replyid,
    ticket: { id: 1 },
    author: { type: 'guest', name: 'Ann Example', email: 'ann@example.com' },
    message: MESSAGE,
    markdown: false,
    status: null,
    noemail: false,
    created: null,
    customfields: [],
    attachments: [{ name: 'note.txt', data: 'aGVsbG8gd29ybGQ=' }],
    source: { kind: 'api', principal: 'client-1' },
    receivedAt: new Date().toISOString(),
  };
}

/** Records a dead letter as the worker does, and answers its id. */
async function addDeadLetter(db: Db, letter: Partial<DeadLetter> = {}): Promise<number> {
  const payload = letter.payload ?? replyPayload();
  const full: DeadLetter = {
    queue: 'replies',
    jobId: `reply-${(payload as { replyid?: string }).replyid ?? randomUUID()}`,
    name: 'reply',
    payload,
    reason: 'ticket_not_found',
    error: 'ticket 1 does not exist (SELECT … FROM tickets)',
    attempts: 1,
    ...letter,
  };
  await recordDeadLetter(db, full);
  return (await findDeadLetter(db, full.queue, full.jobId))!.id;
}

/** A webhook.test outbox row whose delivery failed for good, and its dead letter. */
async function deadNotification(db: Db): Promise<{ id: number; outboxId: string }> {
  const endpoint = await addWebhookEndpoint(db, {
    url: 'https://hooks.example/in',
    secret: newWebhookSecret(),
    events: ['ticket.reply.created'],
  });
  const outboxId = await insertTestEvent(db, endpoint);
  await db('outbox').where({ id: outboxId }).update({ failed_at: db.fn.now(), detail: 'HTTP 500' });
  const id = await addDeadLetter(db, {
    queue: 'notifications',
    jobId: `notify-${outboxId}`,
    name: 'webhook',
    payload: { v: 1, outboxId },
    reason: 'retries_exhausted',
  });
  return { id, outboxId };
}

function openReplies(prefix: string): Queue {
  return new Queue('replies', { connection: { url: redisUrl() }, prefix });
}

async function replayedAt(db: Db, id: number): Promise<Date | null> {
  const row = await db('dead_letters')
    .where({ id })
    .first<{ replayed_at: Date | null }>('replayed_at');
  return row.replayed_at;
}

describe.concurrent('ticketflow dlq', { timeout: COMMANDS_TIMEOUT_MS }, () => {
  it('lists dead letters with the reply or outbox row they concern, and narrows to one --queue', async ({
    expect,
  }) => {
    const db = cli.database.db;
    const payload = replyPayload();
    const reply = await addDeadLetter(db, { payload });
    const notification = await deadNotification(db);

    const [all, notificationsOnly, table] = await Promise.all([
      cli.run(['dlq', 'list', '--json']),
      cli.run(['dlq', 'list', '--queue', 'notifications', '--json']),
      cli.run(['dlq', 'list']),
    ]);
    expect(all.code).toBe(0);
    const listed = (JSON.parse(all.stdout) as { deadLetters: Array<{ id: number }> }).deadLetters;
    expect(listed.find((l) => l.id === reply)).toEqual({
      id: reply,
      queue: 'replies',
      jobId: `reply-${payload.replyid}`,
      name: 'reply',
      replyid: payload.replyid,
      outboxId: null,
      reason: 'ticket_not_found',
      attempts: 1,
      failedAt: expect.any(String) as unknown,
      replayedAt: null,
    });
    expect(listed.find((l) => l.id === notification.id)).toMatchObject({
      queue: 'notifications',
      replyid: null,
      outboxId: notification.outboxId,
      reason: 'retries_exhausted',
    });
    expect(all.stdout).not.toContain(MESSAGE);

    const narrowed = (
      JSON.parse(notificationsOnly.stdout) as { deadLetters: Array<{ queue: string }> }
    ).deadLetters;
    expect(narrowed.length).toBeGreaterThan(0);
    expect(new Set(narrowed.map((l) => l.queue))).toEqual(new Set(['notifications']));

    expect(table.code).toBe(0);
    expect(lines(table.stdout)[0]).toMatch(/^ID\s+QUEUE\s+JOB-ID\s+REPLYID\/OUTBOX\s+REASON/);
    expect(
      lines(table.stdout)
        .find((l) => l.startsWith(`${reply} `))
        ?.split(/\s+/)
        .slice(0, 6),
    ).toEqual([
      String(reply),
      'replies',
      `reply-${payload.replyid}`,
      payload.replyid,
      'ticket_not_found',
      '1',
    ]);
  });

  it('exits 2 naming the catalog queues when --queue names no queue', async ({ expect }) => {
    const result = await cli.run(['dlq', 'list', '--queue', 'emails']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([
      'ticketflow: --queue: unknown queue "emails"; the queues are replies, notifications, maintenance',
    ]);
  });

  it('shows a dead letter with the raw error and its payload redacted as the dashboard redacts jobs; --full shows it all', async ({
    expect,
  }) => {
    const payload = { ...replyPayload(), customfields: [{ field: 'VAT', value: 'IT01234567890' }] };
    const id = await addDeadLetter(cli.database.db, { payload });

    const [redacted, full] = await Promise.all([
      cli.run(['dlq', 'show', String(id)]),
      cli.run(['dlq', 'show', String(id), '--full']),
    ]);
    expect(redacted.stderr).toBe('');
    expect(redacted.code).toBe(0);
    const shown = JSON.parse(redacted.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      id,
      queue: 'replies',
      jobId: `reply-${payload.replyid}`,
      reason: 'ticket_not_found',
      description: 'its ticket does not exist',
      error: 'ticket 1 does not exist (SELECT … FROM tickets)',
      replayedAt: null,
    });
    expect(shown.payload).toEqual({
      ...payload,
      message: `[redacted: ${MESSAGE.length} chars]`,
      author: { type: 'guest', name: '[redacted: 11 chars]', email: '[redacted: 15 chars]' },
      customfields: [{ field: 'VAT', value: '[redacted: 13 chars]' }],
      attachments: [{ name: '[redacted: 8 chars]', data: '[redacted: 16 chars]' }],
    });
    expect(redacted.stdout).not.toContain('ann@example.com');

    expect(full.code).toBe(0);
    expect((JSON.parse(full.stdout) as { payload: unknown }).payload).toEqual(payload);
  });

  it('exits 1 from dlq show and dlq replay with an id no dead letter has, and 2 with one that is not an id', async ({
    expect,
  }) => {
    const [show, replay, notAnId] = await Promise.all([
      cli.run(['dlq', 'show', '999999']),
      cli.run(['dlq', 'replay', '999999']),
      cli.run(['dlq', 'show', 'abc']),
    ]);
    expect(show.code).toBe(1);
    expect(lines(show.stderr)).toEqual(['ticketflow: no dead letter 999999']);
    expect(replay.code).toBe(1);
    expect(lines(replay.stderr)).toEqual(['ticketflow: no dead letter 999999']);
    expect(notAnId.code).toBe(2);
    expect(lines(notAnId.stderr)).toEqual([
      'ticketflow: the dead letter id must be a positive integer, got "abc"',
    ]);
  });

  it('adds the job again from the stored payload when BullMQ no longer holds it, and refuses a second replay', async ({
    expect,
  }) => {
    const db = cli.database.db;
    const payload = replyPayload();
    const id = await addDeadLetter(db, { payload });
    const prefix = cli.newPrefix();
    const env = cli.env({ TICKETFLOW_QUEUE_PREFIX: prefix });

    const result = await cli.run(['dlq', 'replay', String(id)], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `replayed dead letter ${id}: re-added the job reply-${payload.replyid} on replies\n`,
    );
    expect(await readJob('replies', prefix, `reply-${payload.replyid}`)).toEqual({
      name: 'reply',
      data: payload,
      state: 'waiting',
      attemptsMade: 0,
      // The catalog's options, as every producer adds reply jobs with.
      attempts: 6,
    });
    expect(await replayedAt(db, id)).toBeInstanceOf(Date);

    const again = await cli.run(['dlq', 'replay', String(id)], env);
    expect(again.code).toBe(1);
    expect(lines(again.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(`^ticketflow: dead letter ${id} was already replayed at `),
      ) as unknown,
    ]);
  });

  it("retries BullMQ's failed job when it still holds it: the job waits again with a fresh attempt budget", async ({
    expect,
    onTestFinished,
  }) => {
    const db = cli.database.db;
    const prefix = cli.newPrefix();
    const payload = replyPayload();
    const jobId = `reply-${payload.replyid}`;
    const queue = openReplies(prefix);
    onTestFinished(() => queue.close());
    await queue.add('reply', payload, { jobId, attempts: 3 });
    const worker = new Worker(
      'replies',
      () => Promise.reject(new UnrecoverableError('ticket 1 does not exist')),
      { connection: { url: redisUrl() }, prefix },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the job did not fail in time')),
          FAIL_DEADLINE_MS,
        );
        worker.on('failed', (job) => {
          if (job?.id !== jobId) return;
          clearTimeout(timer);
          resolve();
        });
      });
    } finally {
      await worker.close();
    }
    expect(await queue.getJobState(jobId)).toBe('failed');
    const id = await addDeadLetter(db, { payload, jobId });

    const result = await cli.run(
      ['dlq', 'replay', String(id)],
      cli.env({ TICKETFLOW_QUEUE_PREFIX: prefix }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `replayed dead letter ${id}: retried the failed job ${jobId} on replies\n`,
    );
    expect(await readJob('replies', prefix, jobId)).toMatchObject({
      state: 'waiting',
      attemptsMade: 0,
      attempts: 3,
    });
    expect(await replayedAt(db, id)).toBeInstanceOf(Date);
  });

  it('reopens the outbox row of a notification before its job is enqueued again', async ({
    expect,
  }) => {
    const db = cli.database.db;
    const { id, outboxId } = await deadNotification(db);
    const prefix = cli.newPrefix();

    const result = await cli.run(
      ['dlq', 'replay', String(id)],
      cli.env({ TICKETFLOW_QUEUE_PREFIX: prefix }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await db('outbox').where({ id: outboxId }).first('failed_at', 'delivered_at')).toEqual({
      failed_at: null,
      delivered_at: null,
    });
    expect(await readJob('notifications', prefix, `notify-${outboxId}`)).toMatchObject({
      name: 'webhook',
      data: { v: 1, outboxId },
      state: 'waiting',
    });
  });

  it('replays every unreplayed dead letter of one --queue with --all, reports progress, and exits 1 naming the one it refused', async ({
    expect,
  }) => {
    const own = await cli.isolatedDatabase();
    const good = replyPayload();
    const goodId = await addDeadLetter(own.db, { payload: good });
    const unknownId = await addDeadLetter(own.db, { name: 'frobnicate' });
    const earlierId = await addDeadLetter(own.db);
    await own.db('dead_letters').where({ id: earlierId }).update({ replayed_at: own.db.fn.now() });
    const notification = await deadNotification(own.db);
    const prefix = cli.newPrefix();

    const result = await cli.run(
      ['dlq', 'replay', '--all', '--queue', 'replies'],
      cli.env({ DATABASE_URL: own.url, TICKETFLOW_QUEUE_PREFIX: prefix }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('replayed 1 of 2 dead letters\n');
    const errors = result.stderr.split('\n');
    expect(errors.at(-1)).toBe('');
    expect(errors[0]?.split('\r').at(-1)).toBe('replayed 2/2');
    expect(errors.slice(1, -1)).toEqual([
      `dead letter ${unknownId}: queue replies runs no job named "frobnicate" (it runs reply)`,
      'ticketflow: 1 dead letters could not be replayed (listed above)',
    ]);

    expect(await replayedAt(own.db, goodId)).toBeInstanceOf(Date);
    expect(await replayedAt(own.db, unknownId)).toBeNull();
    expect(await replayedAt(own.db, notification.id)).toBeNull();
    const queue = openReplies(prefix);
    try {
      expect(await queue.getJobState(`reply-${good.replyid}`)).toBe('waiting');
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    } finally {
      await queue.close();
    }
  });

  it.for([
    { args: [], says: 'a dead letter id, or --all' },
    { args: ['1', '--all'], says: 'a dead letter id, or --all' },
    { args: ['1', '--queue', 'replies'], says: '--queue goes with --all' },
    { args: ['--all', '--queue', 'emails'], says: 'unknown queue "emails"' },
  ])('exits 2 from dlq replay $args', async ({ args, says }, { expect }) => {
    const result = await cli.run(['dlq', 'replay', ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining(says) as unknown]);
  });

  it('purges the dead letters older than --older-than and prints how many', async ({ expect }) => {
    const own = await cli.isolatedDatabase();
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    await addDeadLetter(own.db, { failedAt: daysAgo(45) });
    await addDeadLetter(own.db, { failedAt: daysAgo(31) });
    const recent = await addDeadLetter(own.db, { failedAt: daysAgo(29) });
    const env = cli.env({ DATABASE_URL: own.url });

    const [purged, noUnit, missing] = await Promise.all([
      cli.run(['dlq', 'purge', '--older-than', '30d'], env),
      cli.run(['dlq', 'purge', '--older-than', '30'], env),
      cli.run(['dlq', 'purge'], env),
    ]);
    expect(purged.stderr).toBe('');
    expect(purged.code).toBe(0);
    expect(purged.stdout).toMatch(/^deleted 2 dead letters that failed before \S+Z\n$/);
    expect(await own.db('dead_letters').pluck('id')).toEqual([recent]);
    expect(noUnit.code).toBe(2);
    expect(lines(noUnit.stderr)).toEqual([expect.stringContaining('30d, 12h or 90m') as unknown]);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)).toEqual([expect.stringContaining('--older-than') as unknown]);
  });
});
