import type { TicketSummary } from '@ticketflow/db';
import type { Principal } from './principal.ts';

/** A client token reaches its own client's tickets only; staff and bridges reach all. */
export function mayReachTicket(principal: Principal, ticket: TicketSummary): boolean {
  return principal.role !== 'client' || ticket.clientId === principal.clientid;
}
