import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from './stack.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

describe('the reply path', () => {
  it('persists an urlencoded reply and shows it through get-ticket', async () => {
    const res = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.clientToken}`,
        'content-type': 'application/x-www-form-urlencoded',
        prefer: 'wait=10',
      },
      body: new URLSearchParams({ ticketid: String(stack.seed.ticketId), message: 'hello' }),
    });
    const body = (await res.json()) as { result: string; replyid: string; status: string };
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ result: 'success', status: 'persisted' });
    const ticket = await fetch(`${stack.url}/api/v2/get-ticket?ticketid=${stack.seed.ticketId}`, {
      headers: { authorization: `Bearer ${stack.clientToken}` },
    });
    const t = (await ticket.json()) as {
      replies: { reply: Array<{ replyid: string; message: string }> };
    };
    expect(t.replies.reply.map((r) => [r.replyid, r.message])).toEqual([[body.replyid, 'hello']]);
  });
});
