import type { Db } from './connect.ts';
import type { TicketRef } from './tickets.ts';

/** What the email bridge needs to know of a ticket to decide who wrote a message. */
export interface MailTicket {
  id: number;
  tid: string;
  clientId: number | null;
  /** The client's address, for a client's ticket. */
  clientEmail: string | null;
  /** The ticket's own name and address: the guest's, on a guest ticket. */
  name: string;
  email: string;
  /** The client's contact whose address is the sender's, if there is one. */
  senderContactId: number | null;
}

/**
 * The ticket `ref` names, with the facts about `sender` (an address) it holds, in one read.
 * Addresses compare case-insensitively, as mail systems treat them.
 */
export async function findMailTicket(
  db: Db,
  ref: TicketRef,
  sender: string,
): Promise<MailTicket | undefined> {
  const row = await db('tickets as t')
    .leftJoin('clients as cl', 'cl.id', 't.client_id')
    .where('id' in ref ? { 't.id': ref.id } : { 't.tid': ref.num })
    .first<
      | {
          id: number;
          tid: string;
          client_id: number | null;
          client_email: string | null;
          name: string;
          email: string;
          contact_id: number | null;
        }
      | undefined
    >(
      't.id',
      't.tid',
      't.client_id',
      'cl.email as client_email',
      't.name',
      't.email',
      db.raw(
        `(SELECT co.id FROM contacts co WHERE co.client_id = t.client_id
           AND lower(co.email) = lower(?) ORDER BY co.id LIMIT 1) AS contact_id`,
        [sender],
      ),
    );
  return (
    row && {
      id: row.id,
      tid: row.tid,
      clientId: row.client_id,
      clientEmail: row.client_email,
      name: row.name,
      email: row.email,
      senderContactId: row.contact_id,
    }
  );
}
