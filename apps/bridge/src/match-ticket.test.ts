import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { notificationMessageId, ticketThreadId } from '@ticketflow/contract';
import { matchTicket } from './match-ticket.ts';

const KEY = 'match-ticket-test-key-0123456789abcdef';
const TAG = /\[Ticket ID: ([A-Za-z0-9-]{1,15})\]/i;
const rules = { mailSecret: KEY, subjectTag: TAG };
const ours = (ticketId: number) =>
  notificationMessageId({ ticketId, replyUid: randomUUID() }, KEY, 'desk.example');

describe('matchTicket', () => {
  it('trusts one of our notification ids, in In-Reply-To or References, before the subject', () => {
    expect(
      matchTicket({ referencedIds: [ours(7)], subject: '[Ticket ID: OTHER-1] hi' }, rules),
    ).toEqual({ by: 'message-id', ref: { id: 7 } });
    expect(
      matchTicket(
        { referencedIds: ['<x@gmail.example>', ticketThreadId(9, KEY, 'a.example')], subject: '' },
        rules,
      ),
    ).toEqual({ by: 'message-id', ref: { id: 9 } });
  });

  it('ignores an id whose HMAC does not verify (forged, or signed with another key)', () => {
    const other = notificationMessageId(
      { ticketId: 7, replyUid: randomUUID() },
      'x'.repeat(32),
      'd.example',
    );
    expect(matchTicket({ referencedIds: [other], subject: 'Re: hi' }, rules)).toBeUndefined();
  });

  it('falls back to the subject tag, case-insensitively', () => {
    expect(
      matchTicket({ referencedIds: [], subject: 'RE: [ticket id: ABC-123456] Site down' }, rules),
    ).toEqual({ by: 'subject-tag', ref: { num: 'ABC-123456' } });
  });

  it('reads a configured tag pattern by its first capture group', () => {
    expect(
      matchTicket(
        { referencedIds: [], subject: 'Ticket #42: printer' },
        { ...rules, subjectTag: /#(\d+):/i },
      ),
    ).toEqual({ by: 'subject-tag', ref: { num: '42' } });
  });

  it('names no ticket rather than guessing', () => {
    expect(
      matchTicket({ referencedIds: ['<a@b>'], subject: 'Ticket ID: 5' }, rules),
    ).toBeUndefined();
  });
});
