import { allOk, batchCalls } from '@ticketflow/batch';
import type { Db } from './connect.ts';
import { queryPrepared, type PreparedStatement } from './prepared.ts';

/** How producers name a ticket: its id, or its public number (WHMCS `tid`). */
export type TicketRef = { id: number } | { num: string };

/** What the reply path needs to know about a ticket. */
export interface TicketSummary {
  id: number;
  tid: string;
  departmentId: number;
  clientId: number | null;
  status: string;
}

/** One indexed read by primary key or by the unique `tid`. */
export async function findTicket(db: Db, ref: TicketRef): Promise<TicketSummary | undefined> {
  const [ticket] = await findTickets(db, [ref]);
  return ticket;
}

export async function clientExists(db: Db, clientId: number): Promise<boolean> {
  return (await db('clients').where({ id: clientId }).first('id')) !== undefined;
}

export async function contactBelongsTo(
  db: Db,
  contactId: number,
  clientId: number,
): Promise<boolean> {
  return (
    (await db('contacts').where({ id: contactId, client_id: clientId }).first('id')) !== undefined
  );
}

/** The configured status whose title matches case-insensitively, in its canonical spelling. */
export async function findStatusTitle(db: Db, name: string): Promise<string | undefined> {
  const row = await db('ticket_statuses')
    .whereRaw('lower(title) = lower(?)', [name.trim()])
    .first<{ title: string } | undefined>('title');
  return row?.title;
}

/** The ticket fields get-ticket answers with (WHMCS GetTicket names are mapped by the caller). */
export interface TicketDetail extends TicketSummary {
  departmentName: string;
  contactId: number | null;
  name: string;
  email: string;
  subject: string;
  message: string;
  priority: string;
  lastReplyAt: Date | null;
  createdAt: Date;
}

export async function getTicketDetail(db: Db, ref: TicketRef): Promise<TicketDetail | undefined> {
  const row = await db('tickets as t')
    .join('departments as d', 'd.id', 't.department_id')
    .where('id' in ref ? { 't.id': ref.id } : { 't.tid': ref.num })
    .first<Record<string, unknown> | undefined>('t.*', 'd.name as department_name');
  return (
    row && {
      id: row.id as number,
      tid: row.tid as string,
      departmentId: row.department_id as number,
      departmentName: row.department_name as string,
      clientId: row.client_id as number | null,
      contactId: row.contact_id as number | null,
      name: row.name as string,
      email: row.email as string,
      subject: row.subject as string,
      message: row.message as string,
      status: row.status as string,
      priority: row.priority as string,
      lastReplyAt: row.last_reply_at as Date | null,
      createdAt: row.created_at as Date,
    }
  );
}

const FIND_TICKETS: PreparedStatement = {
  name: 'ticketflow_find_tickets',
  text: `SELECT t.id, t.tid, t.department_id, t.client_id, t.status
    FROM tickets t
    WHERE t.id = ANY($1::int[]) OR t.tid = ANY($2::text[])`,
};

/** Many tickets in one query: by id or by number, answered in the order asked. */
export async function findTickets(
  db: Db,
  refs: readonly TicketRef[],
): Promise<Array<TicketSummary | undefined>> {
  const ids = refs.flatMap((r) => ('id' in r ? [r.id] : []));
  const nums = refs.flatMap((r) => ('num' in r ? [r.num] : []));
  const rows = await queryPrepared<{
    id: number;
    tid: string;
    department_id: number;
    client_id: number | null;
    status: string;
  }>(db, FIND_TICKETS, [ids, nums]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const byNum = new Map(rows.map((r) => [r.tid, r]));
  return refs.map((ref) => {
    const row = 'id' in ref ? byId.get(ref.id) : byNum.get(ref.num);
    return (
      row && {
        id: row.id,
        tid: row.tid,
        departmentId: row.department_id,
        clientId: row.client_id,
        status: row.status,
      }
    );
  });
}

/**
 * findTicket for a busy process: concurrent lookups share one query (the hot path of every
 * reply, in the ingress and in the worker).
 */
export function createTicketLookup(db: Db): (ref: TicketRef) => Promise<TicketSummary | undefined> {
  return batchCalls(async (refs: TicketRef[]) => allOk(await findTickets(db, refs)));
}
