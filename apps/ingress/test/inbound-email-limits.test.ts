import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TICKET_SUBJECT, rawMail } from '@ticketflow/testing/peers';
import { answerOf, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';

/** Per token and per ticket, each minute: small, so a test reaches them in a few posts. */
const PER_TOKEN_PER_MINUTE = 12;
const PER_TICKET_PER_MINUTE = 3;

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      TICKETFLOW_RATE_LIMIT_PER_PRINCIPAL: String(PER_TOKEN_PER_MINUTE),
      TICKETFLOW_RATE_LIMIT_PER_TICKET: String(PER_TICKET_PER_MINUTE),
      // Strangers may post (as guests): the last test shows they cannot use up a ticket's budget.
      TICKETFLOW_BRIDGE_ALLOW_STRANGERS: 'true',
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

/** Fixed one-minute windows: start with time left in this one, so every post shares it. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

async function postEmail(raw: string, sub: string): Promise<Answer> {
  const res = await fetch(`${stack.url}/api/v2/inbound-email`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.token({ role: 'bridge', sub })}`,
      'content-type': 'message/rfc822',
    },
    body: raw,
  });
  return answerOf(res);
}

const recorded = (dedupeKey: string) =>
  stack.database.db('inbound_emails').where({ dedupe_key: dedupeKey });
const tidOf = async (ticketId: number) =>
  (await stack.database.db('tickets').where({ id: ticketId }).first<{ tid: string }>()).tid;
const replies = (dedupeKey: string) =>
  stack.database.db('ticket_replies').where({ dedupe_key: dedupeKey });

describe('POST /api/v2/inbound-email under the rate limits', () => {
  it("counts each bridge token against add-ticket-reply's per-token limit: 429 with Retry-After, nothing read", async () => {
    await awayFromWindowEdge();
    for (let i = 0; i < PER_TOKEN_PER_MINUTE; i += 1) {
      const answer = await postEmail(
        rawMail({ Subject: `Flood ${i}` }, 'No ticket here.').raw,
        'flooding-service',
      );
      expect(answer.status).toBe(422);
    }
    const over = rawMail({ Subject: 'Which ticket?' }, 'One too many.');
    const answer = await postEmail(over.raw, 'flooding-service');
    expect(answer).toMatchObject({ status: 429, body: { result: 'error', code: 'rate_limited' } });
    expect(answer.body.message).toMatch(/^Too many requests for this token; retry in \d+ s$/);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Refused before the bridge read it: no record. Another token is not affected.
    expect(await recorded(over.key)).toEqual([]);
    const other = await postEmail(over.raw, 'calm-service');
    expect(other.status).toBe(422);
    expect(await recorded(over.key)).toHaveLength(1);
  });

  it("posts at most the ticket's per-minute limit, API replies included, and answers 429 for the rest, storing nothing of it", async () => {
    await awayFromWindowEdge();
    // One reply over the API counts in the same window as the mail.
    const api = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.clientToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ ticketid: String(stack.seed.ticketId), message: 'By API.' }),
    });
    expect(api.status).toBe(200);
    const mails = Array.from({ length: PER_TICKET_PER_MINUTE }, (_, i) =>
      rawMail({ Subject: DEMO_TICKET_SUBJECT }, `Mail ${i} to a busy ticket.`),
    );
    const answers = await Promise.all(mails.map((m) => postEmail(m.raw, 'inbound-service')));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    const refused = mails[answers.findIndex((a) => a.status === 429)]!;
    expect(answers.find((a) => a.status === 429)!.body.message).toMatch(
      /^Too many requests for this ticket; retry in \d+ s$/,
    );
    // The service sends it again later, under the same Message-ID: nothing of it is kept now.
    expect(await recorded(refused.key)).toEqual([]);
    expect(await replies(refused.key)).toEqual([]);
  });

  it("counts a stranger's mail under their own address, so the ticket's people keep its budget", async () => {
    await awayFromWindowEdge();
    const ticket = stack.seed.otherTicketId;
    const tid = await tidOf(ticket);
    const mails = Array.from({ length: PER_TICKET_PER_MINUTE + 1 }, (_, i) =>
      rawMail(
        { Subject: `Re: [Ticket ID: ${tid}] hello` },
        `Stranger mail ${i}.`,
        'someone@outside.example',
      ),
    );
    const answers = [];
    for (const mail of mails) answers.push((await postEmail(mail.raw, 'inbound-service')).status);
    expect(answers).toEqual([200, 200, 200, 429]);
    // The stranger used up only their own count: staff still answer the ticket.
    const staff = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${stack.staffToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ ticketid: String(ticket), message: 'Staff still can.' }),
    });
    expect(staff.status).toBe(200);
  });
});
