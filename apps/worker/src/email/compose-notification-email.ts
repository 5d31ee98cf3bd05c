import type { SendMailOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { LOOP_HEADER } from '@ticketflow/contract';

/** What one notification says and how it threads; every field comes from the stored reply. */
export interface NotificationEmail {
  /** The sender, one mailbox: `support@example.com` or `Support <support@example.com>`. */
  from: string;
  /** The recipient, one mailbox in the same forms as `from`. */
  to: string;
  /** WHMCS tag the email bridge matches: `[Ticket ID: ${tid}] ${subject}`. */
  tid: string;
  subject: string;
  /** The reply's text (markdown source or plain text) and its sanitised HTML rendering. */
  text: string;
  html: string;
  /** Shown in the body: "Demo Client wrote:". */
  authorName: string;
  replyUid: string;
  /** From `notificationMessageId`. */
  messageId: string;
  /** From `ticketThreadId`. */
  threadId: string;
  /** The ticket's previous notification's Message-ID, when there is one. */
  inReplyTo?: string;
}

/**
 * The nodemailer message for one notification. Deterministic apart from what nodemailer adds
 * when it sends (Date, MIME boundaries). Replies thread under the ticket's anchor and, when
 * there is one, the previous notification. The message announces itself as automatic
 * (RFC 3834 `Auto-Submitted`, Exchange's `X-Auto-Response-Suppress`) so that out-of-office
 * responders stay quiet, and carries {@link LOOP_HEADER} and the reply uid for the bridge.
 *
 * @throws RangeError when `from` or `to` is not exactly one mailbox: nodemailer reads a line
 *   break or a comma in an address as more recipients (`a@x\r\nBcc: b@y` sends to b@y).
 */
export function composeNotificationEmail(n: NotificationEmail): SendMailOptions {
  const from = singleMailbox('from', n.from);
  const to = singleMailbox('to', n.to);
  const subject = `[Ticket ID: ${oneLine(n.tid)}] ${oneLine(n.subject)}`;
  const author = oneLine(n.authorName);
  const inReplyTo = oneLine(n.inReplyTo ?? n.threadId);
  const threadId = oneLine(n.threadId);
  return {
    from,
    to,
    subject,
    messageId: oneLine(n.messageId),
    inReplyTo,
    references: inReplyTo === threadId ? [threadId] : [threadId, inReplyTo],
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      [LOOP_HEADER]: loopMarker(from.address),
      'X-Ticketflow-Reply-Id': oneLine(n.replyUid),
    },
    text: `${author} wrote:\n\n${n.text}`,
    html: [
      '<!doctype html>',
      '<html>',
      '<head><meta charset="utf-8"><title>' + escapeHtml(subject) + '</title></head>',
      '<body>',
      `<p>${escapeHtml(author)} wrote:</p>`,
      `<div>${n.html}</div>`,
      '</body>',
      '</html>',
      '',
    ].join('\n'),
  };
}

/**
 * Parsed into name and address, so nodemailer writes the header from the parts, never the
 * raw text.
 */
function singleMailbox(field: 'from' | 'to', text: string): { name: string; address: string } {
  const parsed = addressparser(text);
  const mailbox = parsed.length === 1 ? parsed[0] : undefined;
  if (!mailbox || mailbox.group || !/^[^\s@]+@[^\s@]+$/.test(mailbox.address)) {
    throw new RangeError(
      `notification ${field} must be one address like "name@example.com", got ${JSON.stringify(text)}`,
    );
  }
  return { name: oneLine(mailbox.name), address: mailbox.address };
}

function loopMarker(address: string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return /^[a-z0-9.-]+$/.test(domain) ? domain : 'ticketflow';
}

/**
 * Header values are single lines: a CR or LF in a subject, tag or name would otherwise start
 * a header of the sender's choosing, and in the body would let the author fake the lines
 * around their name. The other control characters (tab too) become spaces as well.
 */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
