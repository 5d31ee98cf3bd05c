import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNotificationMessageId } from '@ticketflow/contract';
import { addWebhookEndpoint, createPgBlobStore, removeWebhookEndpoint } from '@ticketflow/db';
import { createRedis } from '@ticketflow/queue';
import {
  startSmtpPeer,
  startWebhookReceiver,
  until,
  type ReceivedMail,
  type SmtpPeer,
  type WebhookReceiver,
} from '@ticketflow/testing/peers';
import { newWebhookSecret, startWorkers } from '@ticketflow/worker';
import { pino } from 'pino';
import { answerOf, postForm, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';

const MAIL_SECRET = 'notifications-test-mail-secret-0123456789';

let stack: TestStack;
let smtp: SmtpPeer;
let hooks: WebhookReceiver;
let hooksSecret: string;

beforeAll(async () => {
  smtp = await startSmtpPeer();
  hooksSecret = newWebhookSecret();
  hooks = await startWebhookReceiver(hooksSecret);
  stack = await startStack({
    env: {
      SMTP_URL: smtp.url,
      TICKETFLOW_MAIL_SECRET: MAIL_SECRET,
      TICKETFLOW_MAIL_FROM: 'Help Desk <help@desk.example>',
      // The receivers listen on 127.0.0.1, which the SSRF guard refuses by default.
      TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
      TICKETFLOW_WEBHOOK_SCHEDULE: '300ms,300ms,300ms',
      TICKETFLOW_EMAIL_BACKOFF_MS: '100',
    },
  });
  await addWebhookEndpoint(stack.database.db, {
    url: hooks.url,
    secret: hooksSecret,
    events: ['ticket.reply.created'],
  });
});
afterAll(async () => {
  await stack?.close();
  await hooks?.close();
  await smtp?.close();
});

function post(token: string, fields: Record<string, string>): Promise<Answer> {
  return postForm(`${stack.url}/api/v2/add-ticket-reply`, fields, {
    authorization: `Bearer ${token}`,
    prefer: 'wait=10',
  });
}

/** Posts and expects it persisted; answers the reply id. */
async function reply(token: string, fields: Record<string, string>): Promise<string> {
  const answer = await post(token, fields);
  expect(answer.body).toMatchObject({ result: 'success', status: 'persisted' });
  return answer.body.replyid as string;
}

async function ticket(fields: Record<string, unknown>): Promise<{ id: number; tid: string }> {
  const tid = `N-${randomUUID().slice(0, 8)}`;
  const [row] = await stack.database
    .db('tickets')
    .insert({
      tid,
      department_id: stack.seed.departmentId,
      subject: 'Notifications',
      ...fields,
    })
    .returning<{ id: number }[]>('id');
  return { id: row!.id, tid };
}

/** A new ticket of the seeded client and contact, and a reply to it posted by that contact. */
async function contactReply(
  fields: Record<string, string>,
): Promise<{ id: number; tid: string; replyid: string }> {
  const created = await ticket({
    client_id: stack.seed.clientId,
    contact_id: stack.seed.contactId,
  });
  const replyid = await reply(stack.clientToken, {
    ticketid: String(created.id),
    contactid: String(stack.seed.contactId),
    ...fields,
  });
  return { ...created, replyid };
}

/** A staff reply with noemail on a new ticket: only the webhooks hear of it. */
async function quietStaffReply(message: string): Promise<string> {
  const { id } = await ticket({ client_id: stack.seed.clientId });
  return reply(stack.staffToken, { ticketid: String(id), message, noemail: '1' });
}

function mailsOf(replyid: string): ReceivedMail[] {
  return smtp.received.filter((m) => m.header('x-ticketflow-reply-id') === replyid);
}

/** The mail of a reply, once it arrived; then checks a moment later that it came only once. */
async function theMailOf(replyid: string): Promise<ReceivedMail> {
  const mail = await until(`the email of reply ${replyid}`, () => mailsOf(replyid)[0]);
  await settle();
  expect(mailsOf(replyid)).toHaveLength(1);
  return mail;
}

/** Long enough for a duplicate delivery or retry, were there one, to arrive. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 700));
}

function hooksOf(receiver: WebhookReceiver, replyid: string) {
  return receiver.received.filter(
    (r) => (JSON.parse(r.body) as { data?: { replyid?: string } }).data?.replyid === replyid,
  );
}

/** A second endpoint with its own receiver and answers, removed after `run`. */
async function withEndpoint(
  answer: Parameters<WebhookReceiver['answer']>[0],
  run: (receiver: WebhookReceiver, endpointId: number) => Promise<void>,
): Promise<void> {
  const secret = newWebhookSecret();
  const receiver = await startWebhookReceiver(secret);
  receiver.answer(answer);
  const id = await addWebhookEndpoint(stack.database.db, {
    url: receiver.url,
    secret,
    events: ['ticket.reply.created'],
  });
  try {
    await run(receiver, id);
  } finally {
    await removeWebhookEndpoint(stack.database.db, id);
    await receiver.close();
  }
}

describe('who is told (WHMCS semantics)', () => {
  it("emails the department once about a contact's reply, with the headers a bridge and a mail client need", async () => {
    const { id, tid, replyid } = await contactReply({
      message: 'The site is **still** down',
      markdown: '1',
    });
    const mail = await theMailOf(replyid);
    expect(mail.to).toEqual(['support@demo.example']);
    expect(mail.parsed.subject).toBe(`[Ticket ID: ${tid}] Notifications`);
    expect(mail.header('auto-submitted')).toBe('auto-generated');
    expect(mail.header('x-ticketflow-loop')).toBe('desk.example');
    expect(mail.parsed.from?.address).toBe('help@desk.example');
    expect(mail.parsed.text).toContain('The site is **still** down');
    expect(mail.parsed.html).toContain('<strong>still</strong>');
    // The Message-ID carries ticket and reply under an HMAC only this installation can make.
    expect(readNotificationMessageId(mail.parsed.messageId!, MAIL_SECRET)).toEqual({
      ticketId: id,
      replyUid: replyid,
    });
    expect(readNotificationMessageId(mail.parsed.messageId!, 'another-key')).toBeUndefined();
  });

  it("emails the ticket's contact about staff replies, the second threaded under the first", async () => {
    const { id } = await ticket({
      client_id: stack.seed.clientId,
      contact_id: stack.seed.contactId,
    });
    const first = await reply(stack.staffToken, { ticketid: String(id), message: 'Restarted it.' });
    const firstMail = await theMailOf(first);
    const second = await reply(stack.staffToken, { ticketid: String(id), message: 'Still up?' });
    const secondMail = await theMailOf(second);
    expect(firstMail.to).toEqual(['contact@demo.example']);
    expect(secondMail.to).toEqual(['contact@demo.example']);
    expect(secondMail.parsed.inReplyTo).toBe(firstMail.parsed.messageId);
    expect(secondMail.parsed.references).toContain(firstMail.parsed.messageId);
    // Both hang from the ticket's thread anchor, the first entry of References.
    expect(secondMail.parsed.references?.split(/\s+/)[0]).toBe(
      firstMail.parsed.references?.split(/\s+/)[0],
    );
  });

  it("emails the client about a staff reply on a ticket without a contact, and a guest ticket's own address", async () => {
    const clientTicket = await ticket({ client_id: stack.seed.otherClientId });
    const toClient = await reply(stack.staffToken, {
      ticketid: String(clientTicket.id),
      message: 'Hello client',
    });
    expect((await theMailOf(toClient)).to).toEqual(['other@client.example']);
    const toGuest = await reply(stack.staffToken, {
      ticketid: String(stack.seed.guestTicketId),
      message: 'Hello guest',
    });
    expect((await theMailOf(toGuest)).to).toEqual(['guest@example.com']);
  });

  it('sends no email for noemail, and still fires the webhook', async () => {
    const replyid = await quietStaffReply('Quietly noted');
    await until('the webhook of the noemail reply', () => hooksOf(hooks, replyid)[0]);
    await settle();
    expect(mailsOf(replyid)).toEqual([]);
  });

  it('fires one signed ticket.reply.created per reply and endpoint, attachments described, not sent', async () => {
    const { id, tid, replyid } = await contactReply({
      message: 'Log attached',
      attachments: Buffer.from(
        JSON.stringify([{ name: 'log.txt', data: Buffer.from('line 1\n').toString('base64') }]),
      ).toString('base64'),
    });
    const delivery = await until('the webhook', () => hooksOf(hooks, replyid)[0]);
    await settle();
    expect(hooksOf(hooks, replyid)).toHaveLength(1);
    expect(delivery.verified).toBe(true);
    expect(delivery.id).toMatch(/^msg_[0-9a-f]{32}$/);
    const event = JSON.parse(delivery.body) as Record<string, unknown>;
    expect(event).toMatchObject({
      type: 'ticket.reply.created',
      data: {
        replyid,
        ticket: {
          id,
          tid,
          subject: 'Notifications',
          status: { old: 'Open', new: 'Customer-Reply' },
        },
        author: {
          type: 'contact',
          clientid: stack.seed.clientId,
          contactid: stack.seed.contactId,
          email: 'contact@demo.example',
        },
        message: 'Log attached',
        markdown: false,
        messagehtml: 'Log attached',
        attachments: [
          {
            name: 'log.txt',
            size: 7,
            sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
            contenttype: 'text/plain',
          },
        ],
      },
    });
    expect(Date.parse(event.timestamp as string)).not.toBeNaN();
  });
});

describe('webhook retries (Svix schedule, shortened)', () => {
  it('retries a 500 under the same webhook-id and counts one accepted delivery', async () => {
    await withEndpoint(
      (n) => ({ status: n === 0 ? 500 : 200 }),
      async (receiver, endpointId) => {
        const replyid = await quietStaffReply('Flaky receiver');
        await until('the second attempt', () => hooksOf(receiver, replyid)[1]);
        await settle();
        const seen = hooksOf(receiver, replyid);
        expect(seen.map((r) => r.status)).toEqual([500, 200]);
        expect(seen[1]!.id).toBe(seen[0]!.id);
        expect(seen.every((r) => r.verified)).toBe(true);
        const attempts = await stack.database
          .db('webhook_attempts')
          .where({ endpoint_id: endpointId })
          .orderBy('id')
          .select('http_status');
        expect(attempts).toEqual([{ http_status: 500 }, { http_status: 200 }]);
      },
    );
  });

  it("waits out a 429's Retry-After before the next attempt", async () => {
    await withEndpoint(
      (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }),
      async (receiver) => {
        const replyid = await quietStaffReply('Slow down');
        await until('the retry after 429', () => hooksOf(receiver, replyid)[1], 15_000);
        const [first, second] = hooksOf(receiver, replyid);
        expect(second!.status).toBe(200);
        // The schedule says 300 ms; Retry-After says 1 s, and wins.
        expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
      },
    );
  });

  it('stops at a 410: one attempt, a dead letter, the endpoint disabled, the reply still persisted', async () => {
    await withEndpoint(
      () => ({ status: 410 }),
      async (receiver, endpointId) => {
        const replyid = await quietStaffReply('Gone receiver');
        const db = stack.database.db;
        const letter = await until('the dead letter of the 410', () =>
          db('dead_letters')
            .where({ queue: 'notifications', reason: 'endpoint_gone' })
            .whereRaw(
              "payload->>'outboxId' IN (SELECT id::text FROM outbox WHERE endpoint_id = ?)",
              [endpointId],
            )
            .first<{ attempts: number } | undefined>(),
        );
        expect(letter.attempts).toBe(1);
        await settle();
        expect(hooksOf(receiver, replyid)).toHaveLength(1);
        expect(
          await db('webhook_endpoints')
            .where({ id: endpointId })
            .first('enabled', 'disabled_reason'),
        ).toEqual({ enabled: false, disabled_reason: expect.stringMatching(/410/) as unknown });
        const status = await answerOf(
          await fetch(`${stack.url}/api/v2/replies/${replyid}`, {
            headers: { authorization: `Bearer ${stack.staffToken}` },
          }),
        );
        expect(status.body).toMatchObject({ status: 'persisted' });
      },
    );
  });
  it('dead-letters a delivery that failed every attempt of the schedule', async () => {
    await withEndpoint(
      () => ({ status: 503 }),
      async (receiver, endpointId) => {
        const replyid = await quietStaffReply('Always down');
        const db = stack.database.db;
        const letter = await until(
          'the dead letter of the exhausted delivery',
          () =>
            db('dead_letters')
              .where({ queue: 'notifications', reason: 'retries_exhausted' })
              .whereRaw(
                "payload->>'outboxId' IN (SELECT id::text FROM outbox WHERE endpoint_id = ?)",
                [endpointId],
              )
              .first<{ attempts: number } | undefined>(),
          15_000,
        );
        // The schedule has three delays: four attempts in all, each under the same webhook-id.
        expect(letter.attempts).toBe(4);
        const seen = hooksOf(receiver, replyid);
        expect(seen).toHaveLength(4);
        expect(new Set(seen.map((r) => r.id)).size).toBe(1);
        // Failing for minutes, not days: the endpoint stays enabled.
        expect(await db('webhook_endpoints').where({ id: endpointId }).first('enabled')).toEqual({
          enabled: true,
        });
      },
    );
  });

  it('disables an endpoint whose every attempt has failed for 5 days', async () => {
    await withEndpoint(
      () => ({ status: 500 }),
      async (receiver, endpointId) => {
        const db = stack.database.db;
        // Its failures began six days ago (the clock a failed attempt starts, a delivery stops).
        await db('webhook_endpoints')
          .where({ id: endpointId })
          .update({ failing_since: db.raw("now() - interval '6 days'") });
        const replyid = await quietStaffReply('Down for days');
        await until(
          'the endpoint to be disabled',
          async () =>
            (
              await db('webhook_endpoints')
                .where({ id: endpointId })
                .first<{ enabled: boolean }>('enabled')
            ).enabled === false,
        );
        expect(hooksOf(receiver, replyid)).toHaveLength(1);
        const endpoint = await db('webhook_endpoints')
          .where({ id: endpointId })
          .first<{ disabled_reason: string }>('disabled_reason');
        expect(endpoint.disabled_reason).toMatch(/^every attempt failed since /);
      },
    );
  });
});

describe('email failures', () => {
  it('retries a 451 and delivers once', async () => {
    smtp.refuseNext({ code: 451, text: '4.3.0 Try again later' });
    const { id } = await ticket({ client_id: stack.seed.clientId });
    const replyid = await reply(stack.clientToken, { ticketid: String(id), message: 'Retry me' });
    await theMailOf(replyid);
    const row = await stack.database
      .db('outbox')
      .join('ticket_replies as r', 'r.id', 'outbox.reply_id')
      .where({ 'r.reply_uid': replyid, channel: 'email' })
      .first<{ delivered_at: Date | null; failed_at: Date | null }>('delivered_at', 'failed_at');
    expect(row).toMatchObject({ delivered_at: expect.any(Date) as unknown, failed_at: null });
  });

  it('dead-letters a 550 at once and marks the outbox row failed', async () => {
    smtp.refuseNext({ code: 550, text: '5.1.1 Mailbox unavailable' });
    const { id } = await ticket({ client_id: stack.seed.clientId });
    const replyid = await reply(stack.clientToken, { ticketid: String(id), message: 'Bounce me' });
    const db = stack.database.db;
    const row = await until('the failed outbox row', () =>
      db('outbox')
        .join('ticket_replies as r', 'r.id', 'outbox.reply_id')
        .where({ 'r.reply_uid': replyid, channel: 'email' })
        .whereNotNull('failed_at')
        .first<{ id: string; detail: string } | undefined>('outbox.id', 'outbox.detail'),
    );
    expect(row.detail).toMatch(/550/);
    // The row is marked failed just before the dead letter is written (onFinalFailure first).
    const letter = await until('the dead letter', () =>
      db('dead_letters')
        .whereRaw("payload->>'outboxId' = ?", [row.id])
        .first<{ reason: string; attempts: number } | undefined>('reason', 'attempts'),
    );
    expect(letter).toEqual({ reason: 'delivery_refused', attempts: 1 });
    expect(mailsOf(replyid)).toEqual([]);
  });
});

describe('Prefer: wait on a reply that is dead-lettered meanwhile', () => {
  it('answers result error with the reason from the catalogue, not the raw error', async () => {
    const idle = await startStack({ worker: false });
    const connection = createRedis(idle.config.redisUrl, 'worker');
    const observer = createRedis(idle.config.redisUrl, 'producer');
    try {
      const [row] = await idle.database
        .db('tickets')
        .insert({ tid: 'DOOMED-1', department_id: idle.seed.departmentId, subject: 'Doomed' })
        .returning<{ id: number }[]>('id');
      const answer = postForm(
        `${idle.url}/api/v2/add-ticket-reply`,
        {
          ticketid: String(row!.id),
          message: 'Into the void',
          name: 'Guest',
          email: 'g@x.example',
        },
        { authorization: `Bearer ${idle.staffToken}`, prefer: 'wait=15' },
      );
      await until(
        'the job to wait in the queue',
        async () => (await idle.queue.getWaitingCount()) > 0,
      );
      // The ticket goes before any worker runs: the job is valid, its ticket is not there.
      await idle.database.db('tickets').where({ id: row!.id }).delete();
      const workers = startWorkers({
        config: idle.config,
        db: idle.database.db,
        blobs: createPgBlobStore(idle.database.db),
        connection,
        observer,
        logger: pino({ level: 'silent' }),
      });
      try {
        const { status, body } = await answer;
        expect(status).toBe(422);
        expect(body).toMatchObject({ result: 'error', code: 'reply_dead_lettered' });
        expect(body.message).toMatch(/accepted but not stored: its ticket does not exist/);
        expect(body.message).not.toMatch(/DOOMED|ticket \d+/);
      } finally {
        await workers.close(5000);
      }
    } finally {
      connection.disconnect();
      observer.disconnect();
      await idle.close();
    }
  });
});
