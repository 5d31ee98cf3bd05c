import { describe, expect, it } from 'vitest';
import type { ReplyAuthor, ReplyJob } from '@ticketflow/contract';
import {
  END_USER_STATUS,
  STAFF_DEFAULT_STATUS,
  decideEmailRecipient,
  decideReply,
} from './decide-reply.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
/** A reply with no custom fields and no attachments. */
const NONE = { customFields: [], attachments: [] };

const CLIENT: ReplyAuthor = { type: 'client', clientid: 7, contactid: 11 };
const GUEST: ReplyAuthor = { type: 'guest', name: 'Grace Guest', email: 'grace@example.com' };
const STAFF: ReplyAuthor = { type: 'staff', admin: 'Sam Staff' };

function job(overrides: Partial<ReplyJob> = {}): ReplyJob {
  return {
    v: 1,
    replyid: '0192f1c4-7b3a-7c2e-9d4f-1a2b3c4d5e6f',
    dedupeKey: 'idempotency:client-7:order-42',
    ticket: { id: 42 },
    author: CLIENT,
    message: 'The **restart** fixed it <b>thanks</b>',
    markdown: false,
    status: null,
    noemail: false,
    created: null,
    customfields: [],
    attachments: [],
    source: { kind: 'api', principal: 'client-7' },
    receivedAt: '2026-03-01T11:59:58.000Z',
    ...overrides,
  };
}

describe('decideReply: the ticket status', () => {
  it.each([
    ['client', CLIENT],
    ['guest', GUEST],
  ])('sets Customer-Reply for a %s reply even when the job names a status', (_name, author) => {
    expect(decideReply(job({ author, status: 'Closed' }), NONE, NOW).ticketStatus).toBe(
      END_USER_STATUS,
    );
    expect(decideReply(job({ author, status: null }), NONE, NOW).ticketStatus).toBe(
      'Customer-Reply',
    );
  });

  it('sets Answered for a staff reply without a status', () => {
    const reply = decideReply(job({ author: STAFF, status: null }), NONE, NOW);
    expect(reply.ticketStatus).toBe(STAFF_DEFAULT_STATUS);
    expect(reply.ticketStatus).toBe('Answered');
  });

  it('sets the status a staff reply names', () => {
    expect(decideReply(job({ author: STAFF, status: 'On Hold' }), NONE, NOW).ticketStatus).toBe(
      'On Hold',
    );
  });
});

describe('decideReply: the reply time', () => {
  it('uses now when created is null', () => {
    expect(decideReply(job({ created: null }), NONE, NOW).createdAt).toEqual(NOW);
  });

  it('uses the given instant when created is set, offset included', () => {
    const reply = decideReply(job({ created: '2025-12-24T18:30:00+02:00' }), NONE, NOW);
    expect(reply.createdAt.toISOString()).toBe('2025-12-24T16:30:00.000Z');
  });

  it('keeps receivedAt from the job, not now', () => {
    expect(decideReply(job(), NONE, NOW).receivedAt.toISOString()).toBe('2026-03-01T11:59:58.000Z');
  });
});

describe('decideReply: editor and HTML', () => {
  it('renders markdown to sanitised HTML and records the markdown editor', () => {
    const reply = decideReply(job({ markdown: true }), NONE, NOW);
    expect(reply.editor).toBe('markdown');
    expect(reply.messageHtml).toContain('<strong>restart</strong>');
    expect(reply.message).toBe('The **restart** fixed it <b>thanks</b>');
  });

  it('escapes plain text and records the plain editor', () => {
    const reply = decideReply(job({ markdown: false }), NONE, NOW);
    expect(reply.editor).toBe('plain');
    expect(reply.messageHtml).toBe('The **restart** fixed it &lt;b&gt;thanks&lt;/b&gt;');
  });

  it('never lets a script through the markdown editor', () => {
    const reply = decideReply(
      job({ markdown: true, message: 'hi <script>alert(1)</script>' }),
      NONE,
      NOW,
    );
    expect(reply.messageHtml).not.toContain('<script');
  });
});

describe('decideReply: author columns', () => {
  it('stores a client reply under its client and contact, with no name, email or admin', () => {
    expect(decideReply(job({ author: CLIENT }), NONE, NOW)).toMatchObject({
      clientId: 7,
      contactId: 11,
      name: '',
      email: '',
      admin: '',
    });
  });

  it('stores a client reply without a contact as contact null', () => {
    const author: ReplyAuthor = { type: 'client', clientid: 7, contactid: null };
    expect(decideReply(job({ author }), NONE, NOW)).toMatchObject({
      clientId: 7,
      contactId: null,
    });
  });

  it('stores a guest reply under its name and email, with no client', () => {
    expect(decideReply(job({ author: GUEST }), NONE, NOW)).toMatchObject({
      clientId: null,
      contactId: null,
      name: 'Grace Guest',
      email: 'grace@example.com',
      admin: '',
    });
  });

  it('stores a staff reply under the admin name only', () => {
    expect(decideReply(job({ author: STAFF }), NONE, NOW)).toMatchObject({
      clientId: null,
      contactId: null,
      name: '',
      email: '',
      admin: 'Sam Staff',
    });
  });
});

describe('decideReply: identity and source', () => {
  it('carries the reply id, dedupe key and the ticket as the job names it', () => {
    expect(decideReply(job({ ticket: { num: 'ABC-123456' } }), NONE, NOW)).toMatchObject({
      replyUid: '0192f1c4-7b3a-7c2e-9d4f-1a2b3c4d5e6f',
      dedupeKey: 'idempotency:client-7:order-42',
      ticket: { num: 'ABC-123456' },
    });
    expect(decideReply(job(), NONE, NOW).ticket).toEqual({ id: 42 });
  });

  it('carries the source kind, principal and message id', () => {
    const api = decideReply(job(), NONE, NOW);
    expect(api).toMatchObject({
      source: 'api',
      sourcePrincipal: 'client-7',
      sourceMessageId: null,
    });
    const email = decideReply(
      job({ source: { kind: 'email', principal: 'bridge-1', messageId: '<m1@mail.example>' } }),
      NONE,
      NOW,
    );
    expect(email).toMatchObject({
      source: 'email',
      sourcePrincipal: 'bridge-1',
      sourceMessageId: '<m1@mail.example>',
    });
  });

  it('carries the resolved custom field values unchanged', () => {
    const values = [
      { fieldId: 1, value: 'Google' },
      { fieldId: 2, value: 'Business' },
    ];
    expect(decideReply(job(), { customFields: values, attachments: [] }, NOW).customFields).toEqual(
      values,
    );
  });

  it('gives the same answer for the same input', () => {
    const input = job({ markdown: true });
    expect(decideReply(input, NONE, NOW)).toEqual(decideReply(input, NONE, NOW));
  });
});

describe('decideEmailRecipient (WHMCS: who is told)', () => {
  it('emails the department about a client or contact reply', () => {
    expect(decideEmailRecipient(job({ author: CLIENT }))).toBe('department');
    expect(
      decideEmailRecipient(job({ author: { type: 'client', clientid: 7, contactid: null } })),
    ).toBe('department');
  });

  it('emails the department about a guest reply', () => {
    expect(decideEmailRecipient(job({ author: GUEST }))).toBe('department');
  });

  it('emails the requester about a staff reply', () => {
    expect(decideEmailRecipient(job({ author: STAFF }))).toBe('requester');
  });

  it('emails nobody when the reply says noemail, whoever wrote it', () => {
    for (const author of [CLIENT, GUEST, STAFF]) {
      expect(decideEmailRecipient(job({ author, noemail: true }))).toBeNull();
    }
  });

  it('is what decideReply records', () => {
    expect(decideReply(job({ author: STAFF }), NONE, NOW).notify).toBe('requester');
    expect(decideReply(job({ noemail: true }), NONE, NOW).notify).toBeNull();
  });
});
