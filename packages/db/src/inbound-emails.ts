import type { Db } from './connect.ts';

/** What the email bridge did with one message (the `inbound_emails` table). */
export interface InboundEmail {
  dedupeKey: string;
  mailbox: string;
  messageId: string | null;
  outcome: 'posted' | 'dropped' | 'refused';
  /** Dropped or refused: the reason code. */
  reason: string | null;
  detail: string | null;
  sender: string | null;
  subject: string | null;
  ticketId: number | null;
  replyUid: string | null;
  /** Posted: the text before quoted history and the signature were removed. */
  originalText: string | null;
}

/**
 * Records a message's outcome under its dedupe key. A message read again (a redelivery, a
 * second bridge process) adds no row: it counts one more delivery and takes the latest
 * decision, except that a posted message stays posted (its reply exists whatever came later).
 */
export async function recordInboundEmail(db: Db, email: InboundEmail): Promise<void> {
  await db.raw(
    `INSERT INTO inbound_emails (dedupe_key, mailbox, message_id, outcome, reason, detail, sender,
       subject, ticket_id, reply_uid, original_text)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (dedupe_key) DO UPDATE SET
       deliveries = inbound_emails.deliveries + 1,
       last_seen_at = now(),
       outcome = CASE WHEN inbound_emails.outcome = 'posted' THEN inbound_emails.outcome
         ELSE EXCLUDED.outcome END,
       reason = CASE WHEN inbound_emails.outcome = 'posted' THEN NULL ELSE EXCLUDED.reason END,
       detail = CASE WHEN inbound_emails.outcome = 'posted' THEN NULL ELSE EXCLUDED.detail END,
       ticket_id = COALESCE(inbound_emails.ticket_id, EXCLUDED.ticket_id),
       reply_uid = COALESCE(inbound_emails.reply_uid, EXCLUDED.reply_uid),
       original_text = COALESCE(inbound_emails.original_text, EXCLUDED.original_text)`,
    [
      email.dedupeKey,
      email.mailbox,
      email.messageId,
      email.outcome,
      email.reason,
      email.detail,
      email.sender,
      email.subject,
      email.ticketId,
      email.replyUid,
      email.originalText,
    ],
  );
}
