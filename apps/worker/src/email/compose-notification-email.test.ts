import { describe, expect, it } from 'vitest';
import { LOOP_HEADER } from '@ticketflow/contract';
import { composeNotificationEmail, type NotificationEmail } from './compose-notification-email.ts';

const THREAD = '<tf.42.AAAAAAAAAAAAAAAAAAAAAA@help.example.com>';
const PREVIOUS =
  '<tf.42.11111111-1111-4111-8111-111111111111.BBBBBBBBBBBBBBBBBBBBBB@help.example.com>';
const OWN = '<tf.42.0f8fad5b-d9cb-469f-a165-70867728950e.CCCCCCCCCCCCCCCCCCCCCC@help.example.com>';

function notification(overrides: Partial<NotificationEmail> = {}): NotificationEmail {
  return {
    from: 'Support <support@Help.Example.com>',
    to: 'client@example.org',
    tid: 'ABC-123456',
    subject: 'Printer on fire',
    text: 'It is **still** burning.',
    html: '<p>It is <strong>still</strong> burning.</p>',
    authorName: 'Demo Client',
    replyUid: '0f8fad5b-d9cb-469f-a165-70867728950e',
    messageId: OWN,
    threadId: THREAD,
    ...overrides,
  };
}

describe('composeNotificationEmail', () => {
  it('tags the subject the way the WHMCS email bridge matches it', () => {
    expect(composeNotificationEmail(notification()).subject).toBe(
      '[Ticket ID: ABC-123456] Printer on fire',
    );
  });

  it('marks the message automatic, loop-tagged with the sender domain and names the reply', () => {
    expect(composeNotificationEmail(notification()).headers).toEqual({
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      [LOOP_HEADER]: 'help.example.com',
      'X-Ticketflow-Reply-Id': '0f8fad5b-d9cb-469f-a165-70867728950e',
    });
    expect(LOOP_HEADER).toBe('X-Ticketflow-Loop');
  });

  it('threads the first notification of a ticket under the ticket anchor alone', () => {
    const email = composeNotificationEmail(notification());
    expect(email.messageId).toBe(OWN);
    expect(email.inReplyTo).toBe(THREAD);
    expect(email.references).toEqual([THREAD]);
  });

  it('answers the previous notification and still references the anchor first', () => {
    const email = composeNotificationEmail(notification({ inReplyTo: PREVIOUS }));
    expect(email.inReplyTo).toBe(PREVIOUS);
    expect(email.references).toEqual([THREAD, PREVIOUS]);
  });

  it('lists the anchor once when the previous message is the anchor itself', () => {
    expect(composeNotificationEmail(notification({ inReplyTo: THREAD })).references).toEqual([
      THREAD,
    ]);
  });

  it('names the author above the text and the html', () => {
    const email = composeNotificationEmail(notification());
    expect(email.text).toBe('Demo Client wrote:\n\nIt is **still** burning.');
    expect(email.html).toContain(
      '<p>Demo Client wrote:</p>\n<div><p>It is <strong>still</strong> burning.</p></div>',
    );
    expect(email.html).toMatch(/^<!doctype html>\n<html>/);
  });

  it('hands nodemailer the addresses as parts, not as raw header text', () => {
    const email = composeNotificationEmail(notification());
    expect(email.from).toEqual({ name: 'Support', address: 'support@Help.Example.com' });
    expect(email.to).toEqual({ name: '', address: 'client@example.org' });
  });

  it('falls back to "ticketflow" as the loop marker when the sender domain is unusual', () => {
    const email = composeNotificationEmail(notification({ from: 'support@[192.0.2.1]' }));
    expect(email.headers).toMatchObject({ [LOOP_HEADER]: 'ticketflow' });
  });

  it('gives the same message for the same notification', () => {
    expect(composeNotificationEmail(notification({ inReplyTo: PREVIOUS }))).toEqual(
      composeNotificationEmail(notification({ inReplyTo: PREVIOUS })),
    );
  });
});

describe('composeNotificationEmail against header injection', () => {
  const INJECTION = '\r\nBcc: evil@x.example';

  it('keeps a CRLF in the subject from starting a Bcc header', () => {
    const email = composeNotificationEmail(notification({ subject: `Hello${INJECTION}` }));
    expect(email.subject).toBe('[Ticket ID: ABC-123456] Hello Bcc: evil@x.example');
  });

  it('keeps a CRLF in the ticket tag from starting a Bcc header', () => {
    const email = composeNotificationEmail(notification({ tid: `ABC-1${INJECTION}` }));
    expect(email.subject).toBe('[Ticket ID: ABC-1 Bcc: evil@x.example] Printer on fire');
  });

  it('keeps a CRLF in the author name from faking lines of the body', () => {
    const email = composeNotificationEmail(notification({ authorName: `Demo${INJECTION}` }));
    expect(email.text).toMatch(/^Demo Bcc: evil@x\.example wrote:\n\n/);
  });

  it('escapes markup in the author name, tag and subject of the html body', () => {
    const email = composeNotificationEmail(
      notification({
        authorName: '<img src=x onerror=alert(1)>',
        tid: '<b>1</b>',
        subject: '"&\'',
      }),
    );
    expect(email.html).toContain('<p>&lt;img src=x onerror=alert(1)&gt; wrote:</p>');
    expect(email.html).toContain(
      '<title>[Ticket ID: &lt;b&gt;1&lt;/b&gt;] &quot;&amp;&#39;</title>',
    );
  });

  it('keeps line breaks out of the reply id and threading headers', () => {
    const email = composeNotificationEmail(
      notification({ replyUid: `x${INJECTION}`, inReplyTo: `<a@b>${INJECTION}` }),
    );
    expect(email.headers).toMatchObject({ 'X-Ticketflow-Reply-Id': 'x Bcc: evil@x.example' });
    expect(email.inReplyTo).toBe('<a@b> Bcc: evil@x.example');
  });

  it('refuses a recipient that smuggles in another one', () => {
    for (const to of [
      `client@example.org${INJECTION}`,
      'client@example.org, evil@x.example',
      'Team: a@b, c@d;',
    ]) {
      expect(() => composeNotificationEmail(notification({ to })), to).toThrow(RangeError);
    }
  });

  it('refuses a sender or recipient that is not an address', () => {
    expect(() => composeNotificationEmail(notification({ to: '' }))).toThrow(RangeError);
    expect(() => composeNotificationEmail(notification({ to: 'Demo Client' }))).toThrow(RangeError);
    expect(() => composeNotificationEmail(notification({ from: 'a@b@c' }))).toThrow(RangeError);
  });

  it('writes a sender display name with a CRLF as one line', () => {
    const email = composeNotificationEmail(
      notification({ from: `"Support${INJECTION}" <s@example.com>` }),
    );
    expect(email.from).toEqual({ name: 'Support Bcc: evil@x.example', address: 's@example.com' });
  });
});
