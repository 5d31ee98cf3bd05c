import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@ticketflow/testing/peers';
import { postForm } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';

// One request id follows a reply from its request into its job, its row and its notification's
// log lines (issue 14), and no message text reaches the log at info.
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ captureLogs: true });
});
afterAll(async () => {
  await stack?.close();
});

const SECRET_TEXT = 'the root password is hunter2';

describe('X-Request-Id', () => {
  it('follows the reply into its job, its row and its notification, and is echoed', async () => {
    const requestId = 'lb-7f3a9c2e-trace';
    const answer = await postForm(
      `${stack.url}/api/v2/add-ticket-reply`,
      { ticketid: String(stack.seed.ticketId), message: SECRET_TEXT },
      {
        authorization: `Bearer ${stack.clientToken}`,
        'x-request-id': requestId,
        prefer: 'wait=10',
      },
    );
    expect(answer.body).toMatchObject({ status: 'persisted' });
    expect(answer.headers.get('x-request-id')).toBe(requestId);
    const replyid = answer.body.replyid as string;
    const job = await stack.queue.getJob(`reply-${replyid}`);
    expect(job?.data.requestId).toBe(requestId);
    const row = await stack.database
      .db('ticket_replies')
      .where({ reply_uid: replyid })
      .first<{ request_id: string }>('request_id');
    expect(row.request_id).toBe(requestId);

    const lines = () => stack.logged.filter((line) => line.requestId === requestId);
    await until('the notification log line', () =>
      lines().some((line) => String(line.msg).startsWith('notification delivered')),
    );
    const messages = lines().map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        'request',
        'reply stored',
        expect.stringMatching(/^notification delivered: email/),
      ]),
    );
    expect(JSON.stringify(stack.logged)).not.toContain(SECRET_TEXT);
    expect(JSON.stringify(stack.logged)).not.toContain(stack.clientToken);
  });

  it('makes one up when none is given, and refuses to carry a hostile one', async () => {
    const plain = await fetch(`${stack.url}/healthz`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${stack.url}/healthz`, {
      headers: { 'x-request-id': `${'x'.repeat(200)}` },
    });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
