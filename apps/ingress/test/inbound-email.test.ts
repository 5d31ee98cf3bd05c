import { createHash, randomBytes, randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBridge, startMailListener, type Bridge, type MailListener } from '@ticketflow/bridge';
import {
  DEMO_TICKET_SUBJECT,
  rawMail,
  startSmtpPeer,
  until,
  type SmtpPeer,
} from '@ticketflow/testing/peers';
import { answerOf, postForm, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';

/** Small, so the 413 case needs little data; the bridge's default is 35 MiB. */
const MAX_MESSAGE_BYTES = 64 * 1024;

let stack: TestStack;
let smtp: SmtpPeer;
let bridgeToken: string;

beforeAll(async () => {
  smtp = await startSmtpPeer();
  stack = await startStack({
    env: {
      SMTP_URL: smtp.url,
      TICKETFLOW_MAIL_SECRET: randomBytes(32).toString('hex'),
      TICKETFLOW_MAIL_FROM: 'Help Desk <help@desk.example>',
      TICKETFLOW_BRIDGE_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      TICKETFLOW_EMAIL_BACKOFF_MS: '100',
    },
  });
  bridgeToken = stack.token({ role: 'bridge', sub: 'inbound-service' });
});
afterAll(async () => {
  await stack?.close();
  await smtp?.close();
});

/** POSTs a raw message as inbound-mail services do. */
async function postEmail(
  raw: string | Buffer,
  token = bridgeToken,
  contentType = 'message/rfc822',
): Promise<Answer> {
  const res = await fetch(`${stack.url}/api/v2/inbound-email`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body: raw,
  });
  return answerOf(res);
}

function repliesOf(dedupeKey: string) {
  return stack.database
    .db('ticket_replies')
    .where({ dedupe_key: dedupeKey })
    .select<Array<Record<string, unknown> & { id: number; reply_uid: string }>>('*');
}

function storedReply(dedupeKey: string) {
  return until(`the reply of ${dedupeKey}`, async () => (await repliesOf(dedupeKey))[0]);
}

describe('POST /api/v2/inbound-email', () => {
  it('takes bridge tokens only, and message/rfc822 bodies only', async () => {
    const { raw } = rawMail({ Subject: DEMO_TICKET_SUBJECT }, 'Hello');
    expect(await postEmail(raw, stack.clientToken)).toMatchObject({
      status: 403,
      body: {
        result: 'error',
        code: 'forbidden',
        message: 'Invalid Permissions: inbound-email requires a bridge token',
      },
    });
    expect(await postEmail(raw, bridgeToken, 'text/plain')).toMatchObject({
      status: 415,
      body: {
        code: 'unsupported_content_type',
        message: 'Unsupported Content-Type "text/plain"; send message/rfc822',
      },
    });
    expect(await postEmail('x'.repeat(MAX_MESSAGE_BYTES + 1))).toMatchObject({
      status: 413,
      body: { code: 'payload_too_large', message: 'Message exceeds the limit of 64 KiB' },
    });
  });

  it('posts a reply with its attachment byte-exact and without the quoted history (200 posted)', async () => {
    const pdf = randomBytes(3000);
    const boundary = 'mixed-1';
    const { raw, key } = rawMail(
      {
        Subject: DEMO_TICKET_SUBJECT,
        'MIME-Version': '1.0',
        'Content-Type': `multipart/mixed; boundary="${boundary}"`,
      },
      [
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        'The invoice is attached.',
        '',
        '> Could you send the invoice?',
        `--${boundary}`,
        'Content-Type: application/pdf',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        pdf.toString('base64'),
        `--${boundary}--`,
      ].join('\r\n'),
    );
    const answer = await postEmail(raw);
    expect(answer).toMatchObject({
      status: 200,
      body: { result: 'success', outcome: 'posted', ticketid: stack.seed.ticketId },
    });
    const reply = await storedReply(key);
    expect(reply).toMatchObject({
      reply_uid: answer.body.replyid,
      contact_id: stack.seed.contactId,
      message: 'The invoice is attached.',
      source_principal: 'inbound-service',
    });
    const query = new URLSearchParams({
      relatedid: String(answer.body.replyid),
      type: 'reply',
      index: '0',
    });
    const res = await fetch(`${stack.url}/api/v2/get-ticket-attachment?${query.toString()}`, {
      headers: { authorization: `Bearer ${stack.staffToken}` },
    });
    const attachment = (await res.json()) as { data: string };
    expect(Buffer.from(attachment.data, 'base64')).toEqual(pdf);
  });

  it('refuses a forged reply and a stranger with 422 in the JSON error shape, and drops an auto-reply with 200', async () => {
    const forged = rawMail(
      {
        Subject: 'Re: notification',
        'In-Reply-To': `<tf.${stack.seed.ticketId}.AAAAAAAAAAAAAAAAAAAAAA@desk.example>`,
      },
      'Post me.',
    );
    expect(await postEmail(forged.raw)).toEqual({
      status: 422,
      headers: expect.any(Headers) as Headers,
      body: {
        result: 'error',
        code: 'email_no_ticket',
        message:
          'No ticket matches this email: reply to a Ticketflow notification, or keep the ticket tag in the subject',
      },
    });
    const stranger = rawMail({ Subject: DEMO_TICKET_SUBJECT }, 'Hi', 'someone@else.example');
    expect(await postEmail(stranger.raw)).toMatchObject({
      status: 422,
      body: { code: 'email_sender_not_allowed' },
    });
    const away = rawMail({ Subject: DEMO_TICKET_SUBJECT, Precedence: 'bulk' }, 'Newsletter');
    expect(await postEmail(away.raw)).toMatchObject({
      status: 200,
      body: { result: 'success', outcome: 'dropped', reason: 'bulk_precedence' },
    });
    for (const { key } of [forged, stranger, away]) expect(await repliesOf(key)).toEqual([]);
  });

  it('keys a message without a Message-ID by the SHA-256 of its bytes: posted twice, stored once', async () => {
    const { raw } = rawMail(
      { Subject: DEMO_TICKET_SUBJECT },
      'Sent by a mail client that names no id.',
    );
    const bare = raw.replace(/^Message-ID: .*\r\n/m, '');
    expect(bare).not.toMatch(/Message-ID/i);
    const key = `email:support:sha256:${createHash('sha256').update(bare).digest('hex')}`;
    const first = await postEmail(bare);
    const again = await postEmail(bare);
    expect(first).toMatchObject({ status: 200, body: { outcome: 'posted' } });
    expect(again.body.replyid).toBe(first.body.replyid);
    const reply = await storedReply(key);
    expect(reply.reply_uid).toBe(first.body.replyid);
    expect(await repliesOf(key)).toHaveLength(1);
  });

  it('answers the same reply id to a message posted twice at once, and stores it once', async () => {
    const { raw, key } = rawMail(
      { Subject: DEMO_TICKET_SUBJECT },
      'Posted by two webhook retries.',
    );
    const [first, second] = await Promise.all([postEmail(raw), postEmail(raw)]);
    expect(first.status).toBe(200);
    expect(second.body.replyid).toBe(first.body.replyid);
    await storedReply(key);
    expect(await repliesOf(key)).toHaveLength(1);
  });
});

describe('a round trip through email', () => {
  let bridge: Bridge;
  let listener: MailListener;

  beforeAll(async () => {
    bridge = await openBridge(stack.config, pino({ level: 'silent' }));
    listener = await startMailListener({
      protocol: 'smtp',
      port: 0,
      host: '127.0.0.1',
      maxMessageBytes: bridge.settings.maxMessageBytes,
      mailbox: bridge.settings.mailbox,
      ingest: bridge.ingest,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await listener?.close();
    await bridge?.close();
  });

  it("lands the client's answer to a staff notification on its ticket, and notifies the department once", async () => {
    // Staff answer over the API; the worker emails the ticket's contact through the SMTP peer.
    const staff = await postForm(
      `${stack.url}/api/v2/add-ticket-reply`,
      { ticketid: String(stack.seed.ticketId), message: 'Please restart the server.' },
      { authorization: `Bearer ${stack.staffToken}`, prefer: 'wait=10' },
    );
    expect(staff.body).toMatchObject({ result: 'success', status: 'persisted' });
    const notification = await until('the notification to the contact', () =>
      smtp.received.find((m) => m.header('x-ticketflow-reply-id') === staff.body.replyid),
    );
    expect(notification.to).toEqual([stack.seed.contactEmail]);

    // The contact's mail client answers it, as mail clients do: Re: subject, threading headers.
    const parsed = notification.parsed;
    const bare = `${randomUUID()}@client.example`;
    const info = (await nodemailer
      .createTransport({ host: '127.0.0.1', port: listener.port, secure: false, ignoreTLS: true })
      .sendMail({
        from: `Demo Contact <${stack.seed.contactEmail}>`,
        to: 'support@desk.example',
        subject: `Re: ${parsed.subject ?? ''}`,
        messageId: `<${bare}>`,
        inReplyTo: parsed.messageId,
        references: [...(parsed.references?.split(/\s+/) ?? []), parsed.messageId ?? ''],
        text: `Restarted, all good now.\n\nOn Fri, Dec 4, 2026, Help Desk <help@desk.example> wrote:\n> ${parsed.text?.split('\n').join('\n> ') ?? ''}`,
      })) as { response: string };
    expect(info.response).toMatch(/^250 OK: posted as reply/);

    const reply = await storedReply(`email:support:${bare}`);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.ticketId,
      client_id: stack.seed.clientId,
      contact_id: stack.seed.contactId,
      admin: '',
      message: 'Restarted, all good now.',
    });
    // An end-user reply notifies the department: one outbox row, one email.
    const toDepartment = await until('the notification to the department', () =>
      smtp.received.find((m) => m.header('x-ticketflow-reply-id') === reply.reply_uid),
    );
    expect(toDepartment.to).toEqual([stack.seed.departmentEmail]);
    expect(
      await stack.database.db('outbox').where({ reply_id: reply.id, channel: 'email' }),
    ).toHaveLength(1);
    expect(
      smtp.received.filter((m) => m.header('x-ticketflow-reply-id') === reply.reply_uid),
    ).toHaveLength(1);
  });
});
