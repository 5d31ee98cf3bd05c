import { LOOP_HEADER } from '@ticketflow/contract';
import type { InboundMessage } from './read-message.ts';
import type { DropReason } from './mail-outcome.ts';

/**
 * Whether a message was sent by a machine rather than a person, and so must not become a
 * reply: posting an out-of-office answer to one of our notifications would notify again, be
 * answered again, and so on (RFC 3834 §2). In order:
 * - our loop header: a notification of ours (or another Ticketflow's) came back;
 * - `multipart/report; report-type=delivery-status`: a bounce (RFC 3464);
 * - `Auto-Submitted` other than `no` (RFC 3834 §5): auto-replies and auto-generated mail;
 * - `Precedence: bulk | list | junk`: the older convention vacation programs honour;
 * - `X-Auto-Response-Suppress` (Exchange): set on automatic mail so that no one answers it.
 * Pure: the answer depends on the headers only.
 */
export function detectAutomatic(
  message: Pick<InboundMessage, 'header' | 'contentType'>,
): { reason: DropReason; detail: string } | undefined {
  const loop = message.header(LOOP_HEADER);
  if (loop !== undefined) return { reason: 'loop', detail: `${LOOP_HEADER}: ${loop}` };
  if (
    /^\s*multipart\/report\s*;/i.test(message.contentType) &&
    /;\s*report-type\s*=\s*"?delivery-status"?\s*(;|$)/i.test(message.contentType)
  ) {
    return { reason: 'bounce', detail: 'a delivery status report' };
  }
  const autoSubmitted = message.header('auto-submitted');
  // The keyword may carry comments or parameters: `auto-replied (vacation)`, `no; x=1`.
  if (autoSubmitted !== undefined && !/^\s*no\s*(?:[;(]|$)/i.test(autoSubmitted)) {
    return { reason: 'auto_submitted', detail: `Auto-Submitted: ${autoSubmitted}` };
  }
  const precedence = message.header('precedence');
  if (precedence !== undefined && /^\s*(bulk|list|junk)\s*$/i.test(precedence)) {
    return { reason: 'bulk_precedence', detail: `Precedence: ${precedence.trim()}` };
  }
  const suppress = message.header('x-auto-response-suppress');
  if (suppress !== undefined) {
    return { reason: 'auto_response_suppress', detail: `X-Auto-Response-Suppress: ${suppress}` };
  }
  return undefined;
}
