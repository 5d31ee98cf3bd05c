import {
  apiError,
  fieldValue,
  readPositiveInt,
  readTicketNumber,
  type FormMap,
} from '@ticketflow/contract';
import type { TicketRef } from '@ticketflow/db';

/** `ticketid` (wins when both are sent) or `ticketnum`; 400 when neither is usable. */
export function readTicketRef(fields: FormMap): TicketRef {
  const id = fieldValue(fields, 'ticketid');
  if (id !== undefined) return { id: readPositiveInt('ticketid', id) };
  const num = fieldValue(fields, 'ticketnum');
  if (num !== undefined) return { num: readTicketNumber(num) };
  throw apiError('ticket_required');
}
