import { describe, expect, it } from 'vitest';
import type { MailTicket } from '@ticketflow/db';
import { resolveAuthor } from './resolve-author.ts';

const clientTicket: MailTicket = {
  id: 1,
  tid: 'T-1',
  clientId: 7,
  clientEmail: 'Owner@Client.example',
  name: 'Owner',
  email: 'owner@client.example',
  senderContactId: null,
};
const guestTicket: MailTicket = {
  ...clientTicket,
  clientId: null,
  clientEmail: null,
  name: 'Gina Guest',
  email: 'gina@guest.example',
};
const rules = {
  staff: [
    { address: 'ann@help.example', name: 'Ann Admin' },
    { address: 'bob@help.example', name: undefined },
  ],
  allowStrangers: false,
};
const from = (address: string, name = '') => ({ address, name });

describe('resolveAuthor', () => {
  it("makes a contact of the ticket's client the author, then the client itself", () => {
    expect(
      resolveAuthor(from('c@client.example'), { ...clientTicket, senderContactId: 3 }, rules),
    ).toEqual({
      stranger: false,
      author: {
        type: 'client',
        clientid: 7,
        contactid: 3,
      },
    });
    expect(resolveAuthor(from('OWNER@client.example'), clientTicket, rules)?.author).toEqual({
      type: 'client',
      clientid: 7,
      contactid: null,
    });
  });

  it('makes a configured staff address a staff reply, under its configured name or the sender name', () => {
    expect(resolveAuthor(from('ann@help.example', 'Ann'), clientTicket, rules)?.author).toEqual({
      type: 'staff',
      admin: 'Ann Admin',
    });
    expect(resolveAuthor(from('bob@help.example', 'Bob B.'), guestTicket, rules)?.author).toEqual({
      type: 'staff',
      admin: 'Bob B.',
    });
  });

  it("makes the guest of a guest ticket its author, under the ticket's name", () => {
    expect(resolveAuthor(from('Gina@Guest.example', 'G'), guestTicket, rules)?.author).toEqual({
      type: 'guest',
      name: 'Gina Guest',
      email: 'gina@guest.example',
    });
  });

  it("refuses anyone else, the address of a client ticket's requester included when it is not the client's", () => {
    expect(resolveAuthor(from('mallory@evil.example'), clientTicket, rules)).toBeUndefined();
    expect(resolveAuthor(from('gina@guest.example'), clientTicket, rules)).toBeUndefined();
  });

  it('posts a stranger as a guest when strangers are allowed', () => {
    expect(
      resolveAuthor(from('new@person.example', 'New Person'), clientTicket, {
        ...rules,
        allowStrangers: true,
      }),
    ).toEqual({
      author: { type: 'guest', name: 'New Person', email: 'new@person.example' },
      stranger: true,
    });
  });
});
