import type { ApiError } from '@ticketflow/contract';

/** Why a message was not posted although it was read: an automatic message (RFC 3834). */
export type DropReason =
  'loop' | 'bounce' | 'auto_submitted' | 'bulk_precedence' | 'auto_response_suppress';

/** Why a message was refused: it names no ticket, or may not be posted on the one it names. */
export type RefusalReason =
  | 'no_ticket'
  | 'sender_not_allowed'
  | 'sender_not_authenticated'
  | 'no_sender'
  | 'no_text'
  | 'message_too_long'
  | 'invalid_attachment'
  | 'invalid_job';

/**
 * What the bridge did with one message. Every transport answers from this: SMTP/LMTP (250 or
 * 550), stdin (exit 0 or 67) and HTTP (200 or 422). A fault that a later attempt may not meet
 * (PostgreSQL or Redis unreachable) is thrown instead, and answered "retry later".
 */
export type MailOutcome =
  | { outcome: 'posted'; replyid: string; ticketId: number; tid: string }
  | { outcome: 'dropped'; reason: DropReason; detail: string }
  | { outcome: 'refused'; reason: RefusalReason; error: ApiError };
