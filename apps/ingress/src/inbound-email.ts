import { apiError } from '@ticketflow/contract';
import type { MailIngest } from '@ticketflow/bridge';
import type { Handler } from './handler.ts';
import type { ConsumeRateLimits } from './rate-limit.ts';

export interface InboundEmailOptions {
  /** The mailbox every message posted here is keyed under (the bridge's configured one). */
  mailbox: string;
  consumeRateLimits: ConsumeRateLimits;
  /** Messages one bridge token may post per minute: the per-token limit of add-ticket-reply. */
  perMinute: number;
}

/**
 * `POST /api/v2/inbound-email` (API.md §12): what inbound-mail services post, one raw
 * `message/rfc822` per request, through the email bridge's pipeline under the configured
 * mailbox (so a message that also arrives over SMTP is still one reply). Bridge tokens only,
 * counted against the same per-token limit as add-ticket-reply (429 with `Retry-After`), so a
 * misbehaving service cannot flood the queue where an integration could not.
 * 200 posted or dropped (an auto-reply, a bounce, a loop: the service must not retry those);
 * a refusal is the catalogue's 422; PostgreSQL or Redis away is a 503, and the service retries.
 */
export function createInboundEmail(ingest: MailIngest, options: InboundEmailOptions): Handler {
  return async function inboundEmail(req) {
    if (req.principal.role !== 'bridge') {
      throw apiError('forbidden', 'inbound-email requires a bridge token');
    }
    const headers = await options.consumeRateLimits([
      { scope: 'token', id: req.principal.sub, perMinute: options.perMinute },
    ]);
    const outcome = await ingest(req.message ?? Buffer.alloc(0), {
      mailbox: options.mailbox,
      principal: req.principal.sub,
    });
    switch (outcome.outcome) {
      case 'posted':
        return {
          status: 200,
          headers,
          body: {
            result: 'success',
            outcome: 'posted',
            replyid: outcome.replyid,
            ticketid: outcome.ticketId,
          },
        };
      case 'dropped':
        return {
          status: 200,
          headers,
          body: { result: 'success', outcome: 'dropped', reason: outcome.reason },
        };
      case 'refused':
        throw outcome.error;
    }
  };
}
