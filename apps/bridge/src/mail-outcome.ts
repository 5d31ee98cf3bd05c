import type { ApiError } from '@ticketflow/contract';

/** Why a message was not posted although it was read: an automatic message (RFC 3834). */
export const DROP_REASONS = [
  'loop',
  'bounce',
  'auto_submitted',
  'bulk_precedence',
  'auto_response_suppress',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Why a message was refused: it names no ticket, or may not be posted on the one it names. */
export const REFUSAL_REASONS = [
  'no_ticket',
  'sender_not_allowed',
  'sender_not_authenticated',
  'no_sender',
  'no_text',
  'message_too_long',
  'invalid_attachment',
  'invalid_job',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * Counts a message by what became of it: `posted`, `dropped` or `refused` with its reason, or
 * `deferred` (a fault answered "retry later") with none. Declared here, implemented by
 * `@ticketflow/metrics`.
 */
export type ObserveMail = (
  outcome: 'posted' | 'dropped' | 'refused' | 'deferred',
  reason: DropReason | RefusalReason | typeof TOO_LARGE | '',
) => void;

/** A listener's refusal of a message over the size limit, before the pipeline reads it. */
export const TOO_LARGE = 'message_too_large';

/** Every pair {@link ObserveMail} is called with, so a metric can start each at 0. */
export const MAIL_OUTCOMES: ReadonlyArray<{ outcome: string; reason: string }> = [
  { outcome: 'posted', reason: '' },
  ...DROP_REASONS.map((reason) => ({ outcome: 'dropped', reason })),
  ...REFUSAL_REASONS.map((reason) => ({ outcome: 'refused', reason })),
  { outcome: 'refused', reason: TOO_LARGE },
  { outcome: 'deferred', reason: '' },
];

/**
 * What the bridge did with one message. Every transport answers from this: SMTP/LMTP (250 or
 * 550), stdin (exit 0 or 67) and HTTP (200 or 422). A fault that a later attempt may not meet
 * (PostgreSQL or Redis unreachable) is thrown instead, and answered "retry later".
 */
export type MailOutcome =
  | { outcome: 'posted'; replyid: string; ticketId: number; tid: string }
  | { outcome: 'dropped'; reason: DropReason; detail: string }
  | { outcome: 'refused'; reason: RefusalReason; error: ApiError };
