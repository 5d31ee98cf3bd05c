import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOP_HEADER, notificationMessageId, ticketThreadId } from '@ticketflow/contract';
import PostalMime, { type Email } from 'postal-mime';
import { startSmtpPeer, type SmtpPeer } from '@ticketflow/testing/peers';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeSmtpFailure, isPermanentSmtpFailure } from './classify-smtp-error.ts';
import { composeNotificationEmail } from './compose-notification-email.ts';
import { createMailSender, type MailSender } from './mail-sender.ts';

const KEY = 'mail-sender-test-key';
const DOMAIN = 'help.example.com';
const REPLY_UID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const PREVIOUS_UID = '11111111-1111-4111-8111-111111111111';

function composed(replyUid = REPLY_UID) {
  return composeNotificationEmail({
    from: `Ticketflow Support <support@${DOMAIN}>`,
    to: 'client@example.org',
    tid: 'ABC-123456',
    subject: 'Printer on fire',
    text: 'It is **still** burning.',
    html: '<p>It is <strong>still</strong> burning.</p>',
    authorName: 'Demo Staff',
    replyUid,
    messageId: notificationMessageId({ ticketId: 42, replyUid }, KEY, DOMAIN),
    threadId: ticketThreadId(42, KEY, DOMAIN),
    inReplyTo: notificationMessageId({ ticketId: 42, replyUid: PREVIOUS_UID }, KEY, DOMAIN),
  });
}

/** The shared real SMTP peer, stopped when the test ends; `refusal` answers the first RCPT. */
async function startPeer(refusal?: { code: number; text: string }): Promise<SmtpPeer> {
  const peer = await startSmtpPeer();
  onTestFinished(() => peer.close());
  if (refusal) peer.refuseNext(refusal);
  return peer;
}

function smtpSender(url: string): MailSender {
  const sender = createMailSender({ smtpUrl: url, mailDir: join(tmpdir(), 'unused-in-smtp-mode') });
  onTestFinished(() => sender.close());
  return sender;
}

async function sendFailure(sender: MailSender): Promise<unknown> {
  return sender.send(composed()).then(
    () => expect.fail('the send should have been refused'),
    (error: unknown) => error,
  );
}

function header(email: Email, name: string): string | undefined {
  return email.headers.find((h) => h.key === name.toLowerCase())?.value;
}

describe('createMailSender over SMTP', () => {
  it('delivers a composed notification once, with its threading and automatic headers', async () => {
    const peer = await startPeer();
    const sender = smtpSender(peer.url);
    expect(sender.mode).toBe('smtp');
    const message = composed();

    const sent = await sender.send(message);

    expect(sent.messageId).toBe(message.messageId);
    expect(sent.detail).toMatch(/^250 /);
    expect(peer.received).toHaveLength(1);
    const email = peer.received[0]!.parsed;
    expect(email.subject).toBe('[Ticket ID: ABC-123456] Printer on fire');
    expect(email.messageId).toBe(
      notificationMessageId({ ticketId: 42, replyUid: REPLY_UID }, KEY, DOMAIN),
    );
    const previous = notificationMessageId({ ticketId: 42, replyUid: PREVIOUS_UID }, KEY, DOMAIN);
    expect(email.inReplyTo).toBe(previous);
    expect(email.references).toBe(`${ticketThreadId(42, KEY, DOMAIN)} ${previous}`);
    expect(header(email, 'Auto-Submitted')).toBe('auto-generated');
    expect(header(email, 'X-Auto-Response-Suppress')).toBe('All');
    expect(header(email, LOOP_HEADER)).toBe(DOMAIN);
    expect(header(email, 'X-Ticketflow-Reply-Id')).toBe(REPLY_UID);
    expect(header(email, 'Date')).toBeDefined();
    expect(email.from).toMatchObject({ name: 'Ticketflow Support', address: `support@${DOMAIN}` });
    expect(email.to).toEqual([{ name: '', address: 'client@example.org' }]);
    expect(email.text?.trimEnd()).toBe('Demo Staff wrote:\n\nIt is **still** burning.');
    expect(email.html).toContain('<p>Demo Staff wrote:</p>');
    expect(email.html).toContain('<p>It is <strong>still</strong> burning.</p>');
  });

  it('reports a 550 on RCPT TO as a permanent failure, with the server reply as reason', async () => {
    const peer = await startPeer({ code: 550, text: '5.1.1 mailbox unavailable' });

    const error = await sendFailure(smtpSender(peer.url));

    expect(error).toMatchObject({ code: 'EENVELOPE', responseCode: 550 });
    expect(isPermanentSmtpFailure(error)).toBe(true);
    expect(describeSmtpFailure(error)).toBe('SMTP 550 5.1.1 mailbox unavailable');
    expect(peer.received).toHaveLength(0);
  });

  it('reports a 451 on RCPT TO as a transient failure', async () => {
    const peer = await startPeer({ code: 451, text: '4.3.0 try again later' });

    const error = await sendFailure(smtpSender(peer.url));

    expect(isPermanentSmtpFailure(error)).toBe(false);
    expect(describeSmtpFailure(error)).toBe('SMTP 451 4.3.0 try again later');
  });

  it('reports a port nobody listens on as a transient failure', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const error = await sendFailure(smtpSender(`smtp://127.0.0.1:${port}`));

    expect(isPermanentSmtpFailure(error)).toBe(false);
    expect(describeSmtpFailure(error)).toBe(
      `SMTP server unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe('createMailSender without SMTP', () => {
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ticketflow-mail-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it('writes the message as <Message-ID>.eml in a folder it creates', async () => {
    const mailDir = join(await tempDir(), 'mail');
    const sender = createMailSender({ mailDir });
    expect(sender.mode).toBe('files');
    const message = composed();

    const sent = await sender.send(message);

    const name = `${(message.messageId ?? '').slice(1, -1)}.eml`;
    expect(sent).toEqual({ messageId: message.messageId, detail: join(mailDir, name) });
    expect(await readdir(mailDir)).toEqual([name]);
    const email = await PostalMime.parse(await readFile(sent.detail));
    expect(email.subject).toBe('[Ticket ID: ABC-123456] Printer on fire');
    expect(header(email, 'X-Ticketflow-Reply-Id')).toBe(REPLY_UID);
  });

  it('leaves one file when the same message is sent twice, and one per message id', async () => {
    const mailDir = await tempDir();
    const sender = createMailSender({ mailDir, smtpUrl: '' });

    const first = await sender.send(composed());
    const again = await sender.send(composed());
    const other = await sender.send(composed(PREVIOUS_UID));

    expect(again.detail).toBe(first.detail);
    expect(other.detail).not.toBe(first.detail);
    expect((await readdir(mailDir)).sort()).toEqual(
      [first.detail, other.detail].map((path) => path.slice(mailDir.length + 1)).sort(),
    );
  });

  it('keeps a crafted Message-ID inside the folder', async () => {
    const mailDir = await tempDir();
    const sender = createMailSender({ mailDir });

    const sent = await sender.send({ ...composed(), messageId: '<../../escape/.hidden@x>' });

    expect(await readdir(mailDir)).toEqual(['_.._escape_.hidden@x.eml']);
    expect(sent.detail).toBe(join(mailDir, '_.._escape_.hidden@x.eml'));
  });
});
