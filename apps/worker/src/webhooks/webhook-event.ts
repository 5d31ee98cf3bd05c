import type { Delivery } from '@ticketflow/db';

/** A Standard Webhooks payload: `{type, timestamp, data}`. */
export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The event body of one outbox row. Built from stored rows only, with the outbox row's time as
 * `timestamp`, so every retry sends the same bytes under the same `webhook-id`. Attachments are
 * described (name, size, sha256, content type), never sent. Pure.
 */
export function webhookEvent(delivery: Delivery): WebhookEvent {
  const timestamp = delivery.createdAt.toISOString();
  const { reply, ticket } = delivery;
  if (delivery.event !== 'ticket.reply.created' || !reply || !ticket) {
    return {
      type: delivery.event,
      timestamp,
      data: { endpoint: delivery.endpoint?.id ?? null, message: 'A test event from Ticketflow' },
    };
  }
  return {
    type: delivery.event,
    timestamp,
    data: {
      replyid: reply.uid,
      ticket: {
        id: ticket.id,
        tid: ticket.tid,
        subject: ticket.subject,
        status: { old: ticket.statusBefore, new: ticket.statusAfter },
      },
      author: reply.author,
      message: reply.message,
      markdown: reply.markdown,
      messagehtml: reply.messageHtml,
      created: reply.createdAt.toISOString(),
      attachments: reply.attachments.map((a) => ({
        name: a.name,
        size: a.size,
        sha256: a.sha256,
        contenttype: a.contentType,
      })),
    },
  };
}

/** The `webhook-id` of an outbox row: one per reply and endpoint, the same on every retry. */
export function webhookId(outboxId: string): string {
  return `msg_${outboxId.replaceAll('-', '')}`;
}
