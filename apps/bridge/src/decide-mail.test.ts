import { describe, expect, it } from 'vitest';
import type { MailTicket } from '@ticketflow/db';
import type { BridgeSettings } from './bridge-settings.ts';
import { admitMessage, screenMessage } from './decide-mail.ts';
import type { InboundMessage } from './read-message.ts';

const settings: BridgeSettings = {
  mailbox: 'support',
  subjectTag: /\[Ticket ID: ([A-Za-z0-9-]{1,15})\]/i,
  staff: [],
  allowStrangers: false,
  authservId: undefined,
  maxMessageBytes: 1024 * 1024,
  mailSecret: 'decide-mail-test-key-0123456789abcdef',
  attachments: { count: 2, bytes: 1000, totalBytes: 2000, extensions: ['.txt'] },
  messageBytes: 100,
};
const ticket: MailTicket = {
  id: 5,
  tid: 'T-5',
  clientId: 7,
  clientEmail: 'client@client.example',
  name: 'Client',
  email: 'client@client.example',
  senderContactId: null,
};
const sender = { name: 'Client', address: 'client@client.example' };

function message(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    messageId: '<m@x>',
    from: sender,
    fromCount: 1,
    subject: '[Ticket ID: T-5] Re: hi',
    inReplyTo: undefined,
    referencedIds: [],
    contentType: 'text/plain',
    header: () => undefined,
    authenticationResults: [],
    text: 'Thanks',
    html: undefined,
    attachments: [],
    ...overrides,
  };
}

describe('screenMessage', () => {
  it('drops an automatic message before anything else, even one that names no ticket', () => {
    expect(
      screenMessage(
        message({
          subject: 'Away',
          from: undefined,
          header: (n) => (n === 'precedence' ? 'junk' : undefined),
        }),
        settings,
      ),
    ).toMatchObject({ kind: 'drop', reason: 'bulk_precedence' });
  });

  it('refuses a message without a From address, and one that names no ticket', () => {
    expect(screenMessage(message({ from: undefined }), settings)).toMatchObject({
      kind: 'refuse',
      reason: 'no_sender',
    });
    expect(screenMessage(message({ subject: 'Re: hi' }), settings)).toMatchObject({
      kind: 'refuse',
      reason: 'no_ticket',
      error: { status: 422, code: 'email_no_ticket' },
    });
  });
});

describe('screenMessage with an authserv-id set', () => {
  const checked = { ...settings, authservId: 'mx.help.example' };

  it('goes on to the ticket when our MTA vouches for the sender, and refuses when it does not', () => {
    const vouched = message({
      authenticationResults: ['mx.help.example; dmarc=pass header.from=client.example'],
    });
    expect(screenMessage(vouched, checked)).toMatchObject({ kind: 'match' });
    // The same words from a header our MTA did not write count for nothing.
    const forged = message({
      authenticationResults: ['mx.other.example; dmarc=pass header.from=client.example'],
    });
    expect(screenMessage(forged, checked)).toMatchObject({
      kind: 'refuse',
      reason: 'sender_not_authenticated',
      error: { status: 422, code: 'email_sender_not_authenticated' },
    });
    // Unset, the From header is taken as delivered.
    expect(screenMessage(forged, settings)).toMatchObject({ kind: 'match' });
  });

  it('refuses a message with two From mailboxes even when the first is vouched for', () => {
    const twoFroms = message({
      fromCount: 2,
      authenticationResults: ['mx.help.example; dmarc=pass header.from=client.example'],
    });
    expect(screenMessage(twoFroms, checked)).toMatchObject({
      kind: 'refuse',
      reason: 'sender_not_authenticated',
    });
  });

  it('still drops an automatic message first: a bounce is not refused back to its sender', () => {
    const bounce = message({ contentType: 'multipart/report; report-type=delivery-status' });
    expect(screenMessage(bounce, checked)).toMatchObject({ kind: 'drop', reason: 'bounce' });
  });
});

describe('admitMessage', () => {
  it('admits a known sender with text and allowed files', () => {
    expect(admitMessage(message(), sender, ticket, settings)).toMatchObject({
      kind: 'post',
      author: { type: 'client', clientid: 7, contactid: null },
      text: { reply: 'Thanks' },
      parts: [],
    });
  });

  it('refuses a ticket that does not exist, a message without text, and one whose reply is too long', () => {
    expect(admitMessage(message(), sender, undefined, settings)).toMatchObject({
      reason: 'no_ticket',
    });
    expect(admitMessage(message({ text: ' \n ' }), sender, ticket, settings)).toMatchObject({
      reason: 'no_text',
      error: {
        message: 'This email cannot be posted: it has no text; write the reply in the message',
      },
    });
    expect(admitMessage(message({ text: 'é'.repeat(51) }), sender, ticket, settings)).toMatchObject(
      {
        reason: 'message_too_long',
        error: { code: 'email_not_postable' },
      },
    );
  });

  it('refuses a disallowed attachment with a 422 that names it', () => {
    const attachments = [
      { filename: 'x.exe', mimeType: 'application/x-msdownload', bytes: new Uint8Array(3) },
    ];
    expect(admitMessage(message({ attachments }), sender, ticket, settings)).toMatchObject({
      reason: 'invalid_attachment',
      error: {
        status: 422,
        message: expect.stringContaining('Attachment 1 ("x.exe"): extension .exe') as string,
      },
    });
  });
});
