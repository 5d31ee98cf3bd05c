import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyJobId } from '@ticketflow/contract';
import { createRedis, jobCatalog, openQueue } from '@ticketflow/queue';
import { rawMail, until } from '@ticketflow/testing/peers';
import {
  MAX_MESSAGE_BYTES,
  STAFF_ADDRESS,
  startBridgeStack,
  type BridgeStack,
} from './bridge-stack.ts';

let stack: BridgeStack;

beforeAll(async () => {
  stack = await startBridgeStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A Message-ID of the mail client's making, and the dedupe key the bridge gives it. */
function newMessageId(): { id: string; key: string } {
  const bare = `${randomUUID()}@mail.example`;
  return { id: `<${bare}>`, key: `email:support:${bare}` };
}

const QUOTED = [
  '',
  '-- ',
  'Demo Contact',
  'Demo Client Ltd',
  '',
  'On Thu, Dec 3, 2026 at 10:00 AM Help Desk <help@desk.example> wrote:',
  '> Test Staff wrote:',
  '>',
  '> Please restart the server.',
].join('\n');

describe('the bridge over SMTP', () => {
  it('posts a reply to one of our notifications on its ticket, as its contact, with the quoted history and signature removed', async () => {
    const { id, key } = newMessageId();
    const answer = await stack.send(stack.smtp, {
      from: 'Demo Contact <contact@demo.example>',
      to: 'support@desk.example',
      subject: 'Re: My website is down',
      messageId: id,
      inReplyTo: stack.notificationId(stack.seed.ticketId),
      text: `It works again, thanks!${QUOTED}`,
    });
    expect(answer.code).toBe(250);
    expect(answer.text).toMatch(/OK: posted as reply [0-9a-f-]{36} on ticket DEMO-000001/);
    const [reply, ...others] = await stack.storedReplies(key);
    expect(others).toEqual([]);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.ticketId,
      client_id: stack.seed.clientId,
      contact_id: stack.seed.contactId,
      message: 'It works again, thanks!',
      source: 'email',
      source_message_id: id,
    });
    expect(answer.text).toContain(reply!.reply_uid);
    const record = await stack.inboundEmail(key);
    expect(record).toMatchObject({ outcome: 'posted', reply_uid: reply!.reply_uid, deliveries: 1 });
    // The original is kept beside the reply: the whole text, quotes and signature included.
    expect(record!.original_text).toContain('> Please restart the server.');
  });

  it('posts a reply that names its ticket by the subject tag, and turns an HTML-only message into text', async () => {
    const { id, key } = newMessageId();
    const answer = await stack.send(stack.smtp, {
      from: 'client@demo.example',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
      messageId: id,
      html: '<p>Still <b>down</b> here.</p><p>See <a href="https://status.example">https://status.example</a></p>',
    });
    expect(answer.code).toBe(250);
    const [reply] = await stack.storedReplies(key);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.ticketId,
      client_id: stack.seed.clientId,
      contact_id: null,
      message: 'Still down here.\n\nSee https://status.example',
    });
  });

  it('refuses a forged In-Reply-To with 550 and records the refusal, never guessing a ticket', async () => {
    const genuine = stack.notificationId(stack.seed.ticketId);
    // One character of the mac changed: the id still names the ticket, but its HMAC fails.
    const forged = genuine.replace(/\.(\w)([\w-]{21})@/, (_, c: string, rest: string) =>
      c === 'A' ? `.B${rest}@` : `.A${rest}@`,
    );
    const { id, key } = newMessageId();
    const answer = await stack.send(stack.smtp, {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: 'Re: your notification',
      messageId: id,
      inReplyTo: forged,
      references: [forged],
      text: 'Please post this on the ticket.',
    });
    expect(answer).toMatchObject({ code: 550 });
    expect(answer.text).toContain('No ticket matches this email');
    expect(await stack.inboundEmail(key)).toMatchObject({
      outcome: 'refused',
      reason: 'no_ticket',
    });
    expect(await stack.database.db('ticket_replies').where({ dedupe_key: key })).toEqual([]);
  });

  it("refuses a stranger's reply to someone else's ticket, and posts a guest's reply to their own", async () => {
    const stranger = newMessageId();
    const refused = await stack.send(stack.smtp, {
      from: 'Mallory <mallory@evil.example>',
      to: 'support@desk.example',
      subject: 'Re: My website is down',
      messageId: stranger.id,
      inReplyTo: stack.notificationId(stack.seed.ticketId),
      text: 'Close this ticket please.',
    });
    expect(refused.code).toBe(550);
    expect(refused.text).toContain('"mallory@evil.example" may not reply to this ticket');
    expect(await stack.inboundEmail(stranger.key)).toMatchObject({
      outcome: 'refused',
      reason: 'sender_not_allowed',
    });

    const guest = newMessageId();
    const posted = await stack.send(stack.smtp, {
      from: 'GINA@guest.example',
      to: 'support@desk.example',
      subject: `Re: [Ticket ID: ${stack.seed.guestTid}] Guest question`,
      messageId: guest.id,
      text: 'Thank you!',
    });
    expect(posted.code).toBe(250);
    const [reply] = await stack.storedReplies(guest.key);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.guestTicketId,
      client_id: null,
      name: 'Gina Guest',
      email: 'gina@guest.example',
    });
  });

  it('with TICKETFLOW_BRIDGE_AUTHSERV_ID, refuses a forged From with 550 and posts the sender our MTA vouches for', async () => {
    const mta = 'mx.desk.example';
    const checking = await stack.listen(await stack.openBridge({ authservId: mta }), 'smtp');
    const mail = (id: string, headers: Array<{ key: string; value: string }>) => ({
      from: 'Demo Contact <contact@demo.example>',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
      messageId: id,
      headers,
      text: 'Please delete my site.',
    });
    // Forged: no verdict of our MTA, or a pass written by the sender under another host's id
    // or below our MTA's own (failing) verdict.
    const forgeries = [
      [],
      [{ key: 'Authentication-Results', value: 'mx.evil.example; dmarc=pass' }],
      [
        { key: 'Authentication-Results', value: `${mta}; dmarc=fail header.from=demo.example` },
        { key: 'Authentication-Results', value: `${mta}; dmarc=pass header.from=demo.example` },
      ],
      // A signature of the sender's own domain cannot outvote DMARC's verdict on the From.
      [
        {
          key: 'Authentication-Results',
          value: `${mta}; dkim=pass header.d=demo.example; dmarc=fail header.from=demo.example`,
        },
      ],
      // SPF checked the domain after the quoted local-part, not the one inside it.
      [
        {
          key: 'Authentication-Results',
          value: `${mta}; spf=pass smtp.mailfrom="contact@demo.example"@evil.example`,
        },
      ],
    ];
    for (const headers of forgeries) {
      const { id, key } = newMessageId();
      const answer = await stack.send(checking, mail(id, headers));
      expect(answer.code).toBe(550);
      expect(answer.text).toContain(
        `"contact@demo.example" could not be authenticated: ${mta} found no DMARC, DKIM or SPF pass`,
      );
      expect(await stack.inboundEmail(key)).toMatchObject({
        outcome: 'refused',
        reason: 'sender_not_authenticated',
      });
      expect(await stack.database.db('ticket_replies').where({ dedupe_key: key })).toEqual([]);
    }

    // A second From on top of a signed message: the signature covers one, a reader shows the other.
    const twoFroms = rawMail(
      {
        From: 'Demo Contact <contact@demo.example>',
        Subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
        'Authentication-Results': `${mta}; dkim=pass header.d=demo.example`,
      },
      'Please delete my site.',
      'someone@demo.example',
    );
    const refused = await stack.send(checking, {
      envelope: { from: 'someone@demo.example', to: ['support@desk.example'] },
      raw: twoFroms.raw,
    });
    expect(refused.code).toBe(550);
    expect(await stack.inboundEmail(twoFroms.key)).toMatchObject({
      reason: 'sender_not_authenticated',
    });

    const { id, key } = newMessageId();
    const vouched = await stack.send(
      checking,
      mail(id, [
        {
          key: 'Authentication-Results',
          value: `${mta}; dkim=pass (2048-bit key) header.d=demo.example header.s=s1; spf=none`,
        },
      ]),
    );
    expect(vouched.code).toBe(250);
    const [reply] = await stack.storedReplies(key);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.ticketId,
      contact_id: stack.seed.contactId,
    });
  });

  it('drops an out-of-office auto-reply, a bounce and our own notification with 250, and records why', async () => {
    const tag = 'Re: [Ticket ID: DEMO-000001] My website is down';
    const outOfOffice = newMessageId();
    const ooo = await stack.send(stack.smtp, {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: `Out of office: ${tag}`,
      messageId: outOfOffice.id,
      headers: { 'Auto-Submitted': 'auto-replied' },
      text: 'I am away until Monday.',
    });
    const bounce = newMessageId();
    const dsn = await stack.send(stack.smtp, {
      envelope: { from: '', to: 'support@desk.example' },
      raw: [
        'From: Mail Delivery System <MAILER-DAEMON@mx.example>',
        'To: support@desk.example',
        `Subject: Undelivered Mail Returned to Sender ${tag}`,
        `Message-ID: ${bounce.id}`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'The mail to client@demo.example could not be delivered.',
        '--b1',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.example',
        '',
        'Final-Recipient: rfc822; client@demo.example',
        'Action: failed',
        'Status: 5.1.1',
        '--b1--',
        '',
      ].join('\r\n'),
    });
    const ours = newMessageId();
    const loop = await stack.send(stack.smtp, {
      from: 'Help Desk <help@desk.example>',
      to: 'support@desk.example',
      subject: tag,
      messageId: ours.id,
      headers: { 'X-Ticketflow-Loop': 'desk.example' },
      text: 'Demo Contact wrote: still down',
    });
    for (const answer of [ooo, dsn, loop]) {
      expect(answer.code).toBe(250);
      expect(answer.text).toContain('OK: dropped');
    }
    for (const [{ key }, reason] of [
      [outOfOffice, 'auto_submitted'],
      [bounce, 'bounce'],
      [ours, 'loop'],
    ] as const) {
      expect(await stack.inboundEmail(key)).toMatchObject({ outcome: 'dropped', reason });
      expect(await stack.database.db('ticket_replies').where({ dedupe_key: key })).toEqual([]);
    }
  });

  it('stores one reply when two bridge processes take the same message at once', async () => {
    const second = await stack.listen(await stack.openBridge(), 'smtp');
    const { id, key } = newMessageId();
    const raw = [
      'From: contact@demo.example',
      'To: support@desk.example',
      'Subject: Re: [Ticket ID: DEMO-000001] My website is down',
      `Message-ID: ${id}`,
      '',
      'Delivered to both of you.',
      '',
    ].join('\r\n');
    const envelope = { from: 'contact@demo.example', to: 'support@desk.example' };
    const answers = await Promise.all(
      [stack.smtp, second].map((listener) => stack.send(listener, { envelope, raw })),
    );
    expect(answers.map((a) => a.code)).toEqual([250, 250]);
    const [reply, ...others] = await stack.storedReplies(key);
    expect(others).toEqual([]);
    // Both bridges answered the one reply id the stored reply has.
    for (const answer of answers) expect(answer.text).toContain(reply!.reply_uid);
    expect(await stack.inboundEmail(key)).toMatchObject({ outcome: 'posted', deliveries: 2 });
  });

  it('answers 552 to a message over the size limit', async () => {
    const { id, key } = newMessageId();
    const answer = await stack.send(stack.smtp, {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] logs',
      messageId: id,
      text: 'x'.repeat(MAX_MESSAGE_BYTES + 1024),
    });
    expect(answer.code).toBe(552);
    expect(await stack.inboundEmail(key)).toBeUndefined();
  });

  it('stores attachments byte-exact, an inline image included, under the rules of the HTTP path', async () => {
    const screenshot = randomBytes(40_000);
    const logo = randomBytes(2_000);
    const { id, key } = newMessageId();
    const answer = await stack.send(stack.smtp, {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
      messageId: id,
      text: 'Screenshot attached.',
      html: '<p>Screenshot attached.</p><img src="cid:logo@mail.example">',
      attachments: [
        { filename: 'screen.png', content: screenshot },
        { filename: 'notes.txt', content: 'héllo ✓\n' },
        { cid: 'logo@mail.example', content: logo, contentType: 'image/png' },
      ],
    });
    expect(answer.code).toBe(250);
    const [reply] = await stack.storedReplies(key);
    // nodemailer puts the inline image beside the HTML, ahead of the attachments, and names it.
    expect(await stack.storedAttachments(reply!.id)).toEqual([
      { name: 'attachment-3.png', bytes: logo },
      { name: 'screen.png', bytes: screenshot },
      { name: 'notes.txt', bytes: Buffer.from('héllo ✓\n') },
    ]);

    const refused = newMessageId();
    const exe = await stack.send(stack.smtp, {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
      messageId: refused.id,
      text: 'Run this.',
      attachments: [{ filename: 'fix.php', content: '<?php system($_GET["c"]);' }],
    });
    expect(exe.code).toBe(550);
    expect(exe.text).toContain('Attachment 1 ("fix.php"): extension .php is never allowed');
  });
});

describe('the bridge over LMTP', () => {
  it('answers each recipient and stores one staff reply for all of them', async () => {
    const { id, key } = newMessageId();
    const answer = await stack.send(
      stack.lmtp,
      {
        from: `Ann <${STAFF_ADDRESS}>`,
        to: ['support@desk.example', 'billing@desk.example'],
        subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
        messageId: id,
        text: 'Restarted it for you.',
      },
      true,
    );
    expect(answer.code).toBe(250);
    expect(answer.accepted).toEqual(['support@desk.example', 'billing@desk.example']);
    const [reply, ...others] = await stack.storedReplies(key);
    expect(others).toEqual([]);
    expect(reply).toMatchObject({
      ticket_id: stack.seed.ticketId,
      admin: 'Ann Admin',
      client_id: null,
    });
  });

  it('stores nothing twice when a message comes back long after its job is gone (an LMTP retry)', async () => {
    const { id, key } = newMessageId();
    const mail = {
      from: 'contact@demo.example',
      to: 'support@desk.example',
      subject: 'Re: [Ticket ID: DEMO-000001] My website is down',
      messageId: id,
      text: 'Once only.',
    };
    expect((await stack.send(stack.lmtp, mail, true)).code).toBe(250);
    const [reply] = await stack.storedReplies(key);
    // Completed jobs are trimmed from Redis: only the dedupe key in PostgreSQL remains.
    const connection = createRedis(stack.config.redisUrl, 'producer');
    const queue = openQueue(jobCatalog(stack.config).replies, connection, stack.config.queuePrefix);
    try {
      const jobId = replyJobId(reply!.reply_uid);
      await (await queue.getJob(jobId))!.remove();
      expect((await stack.send(stack.lmtp, mail, true)).code).toBe(250);
      const again = await until('the redelivered job to finish', async () => {
        // finishedOn and returnvalue are written by the same script, so one read sees both.
        const job = await queue.getJob(jobId);
        return job?.finishedOn !== undefined && job;
      });
      expect(again.returnvalue).toMatchObject({ outcome: 'duplicate' });
    } finally {
      await queue.close();
      connection.disconnect();
    }
    expect(await stack.database.db('ticket_replies').where({ dedupe_key: key })).toHaveLength(1);
  });
});
