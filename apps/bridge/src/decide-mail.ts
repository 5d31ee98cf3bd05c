import {
  ApiError,
  apiError,
  formatBytes,
  type ReplyAuthor,
  type ReplyJob,
} from '@ticketflow/contract';
import type { MailTicket } from '@ticketflow/db';
import type { BridgeSettings } from './bridge-settings.ts';
import { authenticateSender } from './authenticate-sender.ts';
import { checkMailAttachments, type CheckedPart } from './check-mail-attachments.ts';
import { detectAutomatic } from './detect-automatic.ts';
import { extractReplyText, type ReplyText } from './extract-reply-text.ts';
import { matchTicket, type TicketMatch } from './match-ticket.ts';
import type { DropReason, RefusalReason } from './mail-outcome.ts';
import type { InboundMessage } from './read-message.ts';
import { resolveAuthor } from './resolve-author.ts';

type Refusal = { kind: 'refuse'; reason: RefusalReason; error: ApiError };
type Sender = NonNullable<InboundMessage['from']>;

/**
 * The first look at a message, before any lookup: drop it (an automatic message), refuse it
 * (no sender, a sender our MTA could not vouch for when it is asked to, no ticket named), or go
 * on to the ticket it names. Pure.
 */
export function screenMessage(
  message: InboundMessage,
  settings: Pick<BridgeSettings, 'mailSecret' | 'subjectTag' | 'authservId'>,
):
  | { kind: 'drop'; reason: DropReason; detail: string }
  | Refusal
  | { kind: 'match'; match: TicketMatch; sender: Sender } {
  const automatic = detectAutomatic(message);
  if (automatic) return { kind: 'drop', ...automatic };
  if (!message.from)
    return refuse('no_sender', apiError('email_not_postable', 'it has no From address'));
  // One From mailbox only: with two, the signature may cover one while the bridge reads the other.
  if (
    settings.authservId &&
    (message.fromCount !== 1 ||
      !authenticateSender(message.authenticationResults, message.from.address, settings.authservId))
  ) {
    return refuse(
      'sender_not_authenticated',
      apiError('email_sender_not_authenticated', message.from.address, settings.authservId),
    );
  }
  const match = matchTicket(message, settings);
  if (!match) return refuse('no_ticket', apiError('email_no_ticket'));
  return { kind: 'match', match, sender: message.from };
}

/**
 * Whether the message may become a reply on `ticket` (undefined: the ticket it named does not
 * exist), and with what author, text and files; `stranger` when the ticket does not know the
 * sender (allowed strangers). Pure.
 */
export function admitMessage(
  message: InboundMessage,
  sender: Sender,
  ticket: MailTicket | undefined,
  settings: BridgeSettings,
):
  | Refusal
  | {
      kind: 'post';
      ticket: MailTicket;
      author: ReplyAuthor;
      stranger: boolean;
      text: ReplyText;
      parts: CheckedPart[];
    } {
  if (!ticket) return refuse('no_ticket', apiError('email_no_ticket'));
  const resolved = resolveAuthor(sender, ticket, settings);
  if (!resolved)
    return refuse('sender_not_allowed', apiError('email_sender_not_allowed', sender.address));
  // The parser reads twice the longest reply: enough for any reply that can be posted.
  const text = extractReplyText(message, settings.messageBytes * 2);
  if (text.reply === '') {
    return refuse(
      'no_text',
      apiError('email_not_postable', 'it has no text; write the reply in the message'),
    );
  }
  if (Buffer.byteLength(text.reply) > settings.messageBytes) {
    return refuse(
      'message_too_long',
      apiError(
        'email_not_postable',
        `the reply text exceeds the limit of ${formatBytes(settings.messageBytes)}`,
      ),
    );
  }
  let parts: CheckedPart[];
  try {
    parts = checkMailAttachments(message.attachments, settings.attachments);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return refuse('invalid_attachment', apiError('email_not_postable', error.message));
  }
  return { kind: 'post', ticket, ...resolved, text, parts };
}

/** The contract-v1 job of an admitted message; its attachments already staged. Pure. */
export function composeReplyJob(input: {
  replyid: string;
  dedupeKey: string;
  ticketId: number;
  author: ReplyAuthor;
  message: string;
  attachments: ReplyJob['attachments'];
  messageId: string | undefined;
  inReplyTo: string | undefined;
  principal: string;
  receivedAt: Date;
}): ReplyJob {
  return {
    v: 1,
    replyid: input.replyid,
    dedupeKey: input.dedupeKey,
    ticket: { id: input.ticketId },
    author: input.author,
    message: input.message,
    // Mail text is plain: `*` and `_` in it are not markup.
    markdown: false,
    // End-user replies set Customer-Reply, staff replies Answered (the worker's rule).
    status: null,
    noemail: false,
    // The Date header is the sender's clock; the reply takes the time it is stored.
    created: null,
    customfields: [],
    attachments: input.attachments,
    source: {
      kind: 'email',
      principal: input.principal,
      ...(input.messageId ? { messageId: input.messageId.slice(0, 998) } : {}),
      ...(input.inReplyTo ? { inReplyTo: input.inReplyTo.slice(0, 998) } : {}),
    },
    receivedAt: input.receivedAt.toISOString(),
  };
}

function refuse(reason: RefusalReason, error: ApiError): Refusal {
  return { kind: 'refuse', reason, error };
}
