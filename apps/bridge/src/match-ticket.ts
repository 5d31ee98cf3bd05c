import { readNotificationMessageId } from '@ticketflow/contract';
import type { InboundMessage } from './read-message.ts';

/** How a message named its ticket. */
export type TicketMatch =
  { by: 'message-id'; ref: { id: number } } | { by: 'subject-tag'; ref: { num: string } };

/**
 * The ticket a message answers, in order: one of our notification Message-IDs in In-Reply-To
 * or References, whose HMAC must verify under `mailSecret` (a forged or altered id names
 * nothing); else the subject tag. Undefined when neither names one: the bridge then refuses
 * the message, it never guesses. Pure.
 */
export function matchTicket(
  message: Pick<InboundMessage, 'referencedIds' | 'subject'>,
  rules: { mailSecret: string; subjectTag: RegExp },
): TicketMatch | undefined {
  for (const id of message.referencedIds) {
    const named = readNotificationMessageId(id, rules.mailSecret);
    if (named) return { by: 'message-id', ref: { id: named.ticketId } };
  }
  const tid = rules.subjectTag.exec(message.subject)?.[1]?.trim();
  return tid ? { by: 'subject-tag', ref: { num: tid } } : undefined;
}
