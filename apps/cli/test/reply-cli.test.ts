import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLY_JOB, replyJobId } from '@ticketflow/contract';
import { parseConfig } from '@ticketflow/config';
import { createRedis, jobCatalog, jobOptions, openQueue } from '@ticketflow/queue';
import { replyJob, until } from '@ticketflow/testing/peers';
import { startNotifyingStack, type NotifyingStack } from './notifying-stack.ts';
import { lines, useCliFixture } from './run-cli.ts';

const cli = useCliFixture();
let stack: NotifyingStack;

beforeAll(async () => {
  stack = await startNotifyingStack(cli);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** `ticketflow reply …` against the stack's database and queues. */
const reply = (...args: string[]) => cli.run(['reply', ...args], stack.env);

interface Story {
  replyid: string;
  status: string;
  ticketid: number | null;
  acceptedAt: string | null;
  persistedAt: string | null;
  job: { state: string; attemptsMade: number; attemptsAllowed: number } | null;
  notifications: Array<{
    channel: string;
    to: string;
    state: string;
    attempts: Array<{ httpStatus: number | null }>;
  }>;
  deadLetter: { reason: string; sentence: string } | null;
}

async function story(replyid: string): Promise<Story> {
  const result = await reply(replyid, '--json');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(lines(result.stdout)).toHaveLength(1);
  return JSON.parse(result.stdout) as Story;
}

describe('ticketflow reply', () => {
  it("tells a stored reply's story: accepted, its attempt, persisted, and each notification with its webhook attempts", async () => {
    stack.hooks.answer((n) => ({ status: n === 0 ? 503 : 200 }));
    const {
      body: { replyid, status },
    } = await stack.postReply('Story time', { waitS: 10 });
    expect(status).toBe('persisted');

    const told = await until(
      'both notifications delivered',
      async () => {
        const s = await story(replyid);
        return s.notifications.length === 2 && s.notifications.every((n) => n.state === 'delivered')
          ? s
          : false;
      },
      15_000,
    );
    expect(told).toMatchObject({
      replyid,
      status: 'persisted',
      ticketid: stack.seed.ticketId,
      job: { state: 'completed', attemptsMade: 1, attemptsAllowed: 6 },
      deadLetter: null,
    });
    expect(Date.parse(told.acceptedAt!)).toBeLessThanOrEqual(Date.parse(told.persistedAt!));
    const email = told.notifications.find((n) => n.channel === 'email');
    const webhook = told.notifications.find((n) => n.channel === 'webhook');
    expect(email).toMatchObject({ to: stack.seed.departmentEmail, attempts: [] });
    expect(webhook).toMatchObject({
      to: stack.hooks.url,
      attempts: [{ httpStatus: 503 }, { httpStatus: 200 }],
    });

    const text = await reply(replyid);
    expect(text.code).toBe(0);
    const out = lines(text.stdout);
    expect(out[0]).toBe(`reply ${replyid}: persisted`);
    expect(out).toContainEqual(expect.stringMatching(/^ {2}accepted +\d{4}-\d\d-\d\dT/));
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`^ {2}job +${replyJobId(replyid)}: completed, 1 of 6`)),
    );
    expect(out).toContainEqual(expect.stringMatching(/^ {2}persisted +\d{4}-/));
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`^ {2}email +${stack.seed.departmentEmail} delivered `)),
    );
    expect(out).toContainEqual(
      expect.stringMatching(new RegExp(`^ {2}webhook +${stack.hooks.url} delivered .*HTTP 200`)),
    );
    expect(out.filter((l) => /^ {4}attempt +\S+ HTTP (503|200) \(\d+ ms\)$/.test(l))).toHaveLength(
      2,
    );
    expect(out.at(-1)).toBe('  dead letter  none');
  });

  it('shows a dead-lettered reply with its reason code and the sentence clients see', async () => {
    const replyid = randomUUID();
    const job = replyJob(2_000_000_000, {
      replyid,
      dedupeKey: `reply-cli-${replyid}`,
      author: { type: 'staff', admin: 'Reply Test' },
      message: 'to a ticket that does not exist',
    });
    const catalog = jobCatalog(parseConfig(stack.env));
    const redis = createRedis(String(stack.env.REDIS_URL), 'producer');
    const queue = openQueue(catalog.replies, redis, String(stack.env.TICKETFLOW_QUEUE_PREFIX));
    try {
      await queue.add(REPLY_JOB, job, jobOptions(catalog.replies.jobs.reply, replyJobId(replyid)));
    } finally {
      await queue.close();
      redis.disconnect();
    }
    const told = await until('the dead letter', async () => {
      const s = await story(replyid);
      return s.deadLetter ? s : false;
    });
    expect(told).toMatchObject({
      status: 'dead',
      acceptedAt: job.receivedAt,
      persistedAt: null,
      job: { state: 'failed', attemptsMade: 1 },
      notifications: [],
      deadLetter: { reason: 'ticket_not_found', sentence: 'its ticket does not exist' },
    });
    const text = await reply(replyid);
    expect(lines(text.stdout).at(-1)).toMatch(
      /^ {2}dead letter {2}#\d+ ticket_not_found: its ticket does not exist \(/,
    );
  });

  it('exits 1 naming the id when no reply, job or dead letter has it', async () => {
    const unknown = randomUUID();
    const result = await reply(unknown);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([
      `ticketflow: reply ${unknown}: unknown (no stored reply, job or dead letter has this id)`,
    ]);
  });

  it('exits 2 when the argument is not a reply id', async () => {
    const result = await reply('42');
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual(['ticketflow: reply: "42" is not a reply id (a UUID)']);
  });
});
