import type { Logger } from 'pino';
import { apiError, validateReplyJob, type ReplyJob } from '@ticketflow/contract';
import {
  findMailTicket,
  recordInboundEmail,
  type BlobStore,
  type Db,
  type InboundEmail,
} from '@ticketflow/db';
import type { BridgeSettings } from './bridge-settings.ts';
import { admitMessage, composeReplyJob, screenMessage } from './decide-mail.ts';
import { mailDedupeKey, mailReplyId } from './mail-dedupe-key.ts';
import type { MailOutcome, ObserveMail } from './mail-outcome.ts';
import { readMessage } from './read-message.ts';

export interface MailIngestDeps {
  db: Db;
  blobs: BlobStore;
  /** Resolves once Redis holds the job; throws when it cannot (the delivery is then retried). */
  enqueue: (job: ReplyJob) => Promise<void>;
  settings: BridgeSettings;
  logger: Logger;
  /** Given when metrics are on: counts every outcome, and every fault as `deferred`. */
  observe?: ObserveMail;
  /**
   * Counts one posting on the ticket against its per-ticket rate limit (shared with the API),
   * or, from a sender the ticket does not know, against that sender's own count; throws past
   * it, and the message is answered "retry later" (451, 75, or the HTTP 429).
   */
  limitTicket?: (ticketId: number, stranger: string | undefined) => Promise<void>;
}

/** Where a message came from. */
export interface MailDelivery {
  /** The mailbox name in its dedupe key. */
  mailbox: string;
  /** Who handed it over: the bridge token's `sub` over HTTP, `bridge:<mailbox>` otherwise. */
  principal: string;
}

/**
 * Reads one raw message and posts, drops or refuses it. Throws only for faults a later attempt
 * may not meet (PostgreSQL or Redis unreachable): the transport then answers "retry later".
 */
export type MailIngest = (raw: Uint8Array, delivery: MailDelivery) => Promise<MailOutcome>;

/**
 * The bridge's pipeline, the same for SMTP, LMTP, stdin and HTTP: parse (postal-mime), screen
 * (loops and auto-replies, then the ticket the message names), one read of the ticket, admit
 * (author, text, attachments), then the effects: stage the files in the blob store, enqueue a
 * contract-v1 job, and record the outcome. Every outcome is recorded under the message's dedupe
 * key in `inbound_emails`; a posted message's original text is kept there too.
 */
export function createMailIngest(deps: MailIngestDeps): MailIngest {
  const ingest = createPipeline(deps);
  const observe = deps.observe;
  if (!observe) return ingest;
  return async function countedIngest(raw, delivery) {
    let outcome;
    try {
      outcome = await ingest(raw, delivery);
    } catch (error) {
      observe('deferred', '');
      throw error;
    }
    observe(outcome.outcome, outcome.outcome === 'posted' ? '' : outcome.reason);
    return outcome;
  };
}

function createPipeline(deps: MailIngestDeps): MailIngest {
  const { db, settings, logger } = deps;
  return async function ingestMail(raw, delivery) {
    const receivedAt = new Date();
    const message = await readMessage(raw);
    const dedupeKey = mailDedupeKey(delivery.mailbox, message.messageId, raw);
    const record = (fields: Pick<InboundEmail, 'outcome'> & Partial<InboundEmail>) =>
      recordInboundEmail(db, {
        dedupeKey,
        mailbox: delivery.mailbox,
        messageId: message.messageId ?? null,
        sender: message.from?.address ?? null,
        subject: message.subject || null,
        reason: null,
        detail: null,
        ticketId: null,
        replyUid: null,
        originalText: null,
        ...fields,
      });

    const screened = screenMessage(message, settings);
    if (screened.kind === 'drop') {
      await record({ outcome: 'dropped', reason: screened.reason, detail: screened.detail });
      logger.info({ dedupeKey, reason: screened.reason }, `email dropped: ${screened.detail}`);
      return { outcome: 'dropped', reason: screened.reason, detail: screened.detail };
    }
    const admitted =
      screened.kind === 'refuse'
        ? screened
        : admitMessage(
            message,
            screened.sender,
            await findMailTicket(db, screened.match.ref, screened.sender.address),
            settings,
          );
    if (admitted.kind === 'refuse') {
      await record({ outcome: 'refused', reason: admitted.reason, detail: admitted.error.message });
      logger.warn(
        { dedupeKey, reason: admitted.reason },
        `email refused: ${admitted.error.message}`,
      );
      return { outcome: 'refused', reason: admitted.reason, error: admitted.error };
    }

    // A flood on one ticket (a mail loop no header gives away, a mail bomb from a known sender)
    // waits at the MTA instead of becoming replies, each of which would notify someone.
    // Strangers count on their own, so they cannot use up the budget of the ticket's people.
    await deps.limitTicket?.(
      admitted.ticket.id,
      admitted.stranger ? message.from?.address : undefined,
    );
    const attachments: ReplyJob['attachments'] = [];
    for (const part of admitted.parts) {
      // Already checked against the limit; the store applies the same one as it writes.
      const blob = await deps.blobs.write(part.bytes, settings.attachments.bytes, () =>
        apiError('email_not_postable', `attachment ${JSON.stringify(part.name)} is too large`),
      );
      attachments.push({ name: part.name, blob: { sha256: blob.sha256, size: blob.size } });
    }
    const replyid = mailReplyId(dedupeKey);
    const checked = validateReplyJob(
      composeReplyJob({
        replyid,
        dedupeKey,
        ticketId: admitted.ticket.id,
        author: admitted.author,
        message: admitted.text.reply,
        attachments,
        messageId: message.messageId,
        inReplyTo: message.inReplyTo,
        principal: delivery.principal,
        receivedAt,
      }),
    );
    // The worker runs the same validator: a job it would dead-letter is refused here instead.
    if (!checked.ok) {
      const error = apiError('email_not_postable', checked.reason);
      await record({ outcome: 'refused', reason: 'invalid_job', detail: error.message });
      return { outcome: 'refused', reason: 'invalid_job', error };
    }
    await deps.enqueue(checked.job);
    await record({
      outcome: 'posted',
      ticketId: admitted.ticket.id,
      replyUid: replyid,
      originalText: admitted.text.original,
    });
    logger.info({ dedupeKey, replyid, ticket: admitted.ticket.tid }, 'email posted');
    return { outcome: 'posted', replyid, ticketId: admitted.ticket.id, tid: admitted.ticket.tid };
  };
}
