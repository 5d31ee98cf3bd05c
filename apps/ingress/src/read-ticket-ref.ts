import {
  apiError,
  readPositiveInt,
  readTicketNumber,
  type FormMap,
  type FormValue,
} from '@ticketflow/contract';
import type { TicketRef } from '@ticketflow/db';

/** `ticketid` (wins when both are sent) or `ticketnum`; 400 when neither is usable. */
export function readTicketRef(fields: FormMap): TicketRef {
  const id = present(fields.get('ticketid'));
  if (id !== undefined) return { id: readPositiveInt('ticketid', id) };
  const num = present(fields.get('ticketnum'));
  if (num !== undefined) return { num: readTicketNumber(num) };
  throw apiError('ticket_required');
}

function present(value: FormValue | undefined): FormValue | undefined {
  return value === null || (typeof value === 'string' && value.trim() === '') ? undefined : value;
}
