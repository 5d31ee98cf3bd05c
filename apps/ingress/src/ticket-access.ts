import { apiError } from '@ticketflow/contract';
import type { TicketSummary } from '@ticketflow/db';
import type { Principal } from './principal.ts';

/** A client token reaches its own client's tickets only; staff and bridges reach all. */
export function mayReachTicket(
  principal: Principal,
  ticket: Pick<TicketSummary, 'clientId'>,
): boolean {
  return principal.role !== 'client' || ticket.clientId === principal.clientid;
}

/** Ops tokens watch queues; tickets and their attachments are for the ones who reply. */
export function assertMayReadTickets(principal: Principal): void {
  if (principal.role === 'ops') throw apiError('forbidden', 'ops tokens cannot read tickets');
}
