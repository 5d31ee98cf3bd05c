import type { ReplyAuthor } from '@ticketflow/contract';
import type { MailTicket } from '@ticketflow/db';
import type { BridgeSettings } from './bridge-settings.ts';

/** The author column fields hold at most this many characters (contract v1). */
const MAX_NAME = 255;

/**
 * Who wrote a message, as the ticket knows them. In order: a contact of the ticket's client
 * (by address), the client itself, a configured staff address (a staff reply), the address of
 * a guest ticket (its guest). Anyone else is undefined, and refused, unless strangers are
 * allowed: then a guest with the sender's name, marked `stranger` (the ticket does not know
 * them). A reply to someone else's ticket is refused by default for the reason the API refuses a
 * client token on another client's ticket. Pure.
 */
export function resolveAuthor(
  sender: { name: string; address: string },
  ticket: MailTicket,
  rules: Pick<BridgeSettings, 'staff' | 'allowStrangers'>,
): { author: ReplyAuthor; stranger: boolean } | undefined {
  const address = sender.address.toLowerCase();
  if (ticket.clientId !== null) {
    if (ticket.senderContactId !== null) {
      return known({
        type: 'client',
        clientid: ticket.clientId,
        contactid: ticket.senderContactId,
      });
    }
    if (ticket.clientEmail?.toLowerCase() === address) {
      return known({ type: 'client', clientid: ticket.clientId, contactid: null });
    }
  }
  const staff = rules.staff.find((s) => s.address === address);
  if (staff) return known({ type: 'staff', admin: clip(staff.name ?? (sender.name || address)) });
  if (ticket.clientId === null && ticket.email.toLowerCase() === address) {
    return known({
      type: 'guest',
      name: clip(ticket.name || sender.name || address),
      email: address,
    });
  }
  if (rules.allowStrangers) {
    return {
      author: { type: 'guest', name: clip(sender.name || address), email: address },
      stranger: true,
    };
  }
  return undefined;
}

function known(author: ReplyAuthor): { author: ReplyAuthor; stranger: boolean } {
  return { author, stranger: false };
}

function clip(name: string): string {
  return name.slice(0, MAX_NAME);
}
