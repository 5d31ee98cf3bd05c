/**
 * Codes of a failure to reach or keep talking to the server, not a refusal of the message:
 * nodemailer's own (ECONNECTION, ESOCKET, ETIMEDOUT, EDNS, ETLS, EPROXY) and the system codes
 * it keeps as `originalCode` or passes through (ECONNREFUSED, ECONNRESET, …).
 */
const UNREACHABLE = new Set([
  'ECONNECTION',
  'ESOCKET',
  'ETIMEDOUT',
  'EDNS',
  'ETLS',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether retrying the same message cannot help: the server gave a 5xx reply (RFC 5321
 * §4.2.1, permanent negative completion), as nodemailer records in `responseCode` — also on
 * an EENVELOPE error for rejected recipients. 503 (bad sequence of commands) is the exception,
 * as nodemailer's `isPermanentResponseCode` makes it: it faults the session, not the message,
 * and a new connection can deliver it. 4xx replies, connection failures and anything
 * unrecognised are worth a retry, so they are false.
 */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const failure = asRecord(error);
  if (!failure) return false;
  const code = replyCode(failure);
  if (code !== undefined) return isPermanentReplyCode(code);
  // An envelope error nodemailer built without a reply of its own still lists the replies of
  // the recipients it lost; if every one of them was permanent, so is the message.
  if (failure.code === 'EENVELOPE' && Array.isArray(failure.rejectedErrors)) {
    const codes = failure.rejectedErrors.map((rejected) => replyCode(asRecord(rejected) ?? {}));
    return codes.length > 0 && codes.every((c) => c !== undefined && isPermanentReplyCode(c));
  }
  return false;
}

/**
 * One line for logs and dead letters: the server's reply (`SMTP 550 5.1.1 mailbox
 * unavailable`), or why it could not be reached (`SMTP server unreachable: connect
 * ECONNREFUSED 127.0.0.1:2525`), or the error's message. Never a stack.
 */
export function describeSmtpFailure(error: unknown): string {
  const failure = asRecord(error);
  if (!failure) return oneLine(String(error));
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  const code = replyCode(failure);
  if (code !== undefined) {
    const reply = typeof failure.response === 'string' ? oneLine(failure.response) : '';
    return `SMTP ${reply.startsWith(String(code)) ? reply : `${code} ${reply}`.trim()}`;
  }
  if (isUnreachable(failure)) return `SMTP server unreachable: ${oneLine(message)}`;
  return oneLine(message);
}

function isPermanentReplyCode(code: number): boolean {
  return code >= 500 && code < 600 && code !== 503;
}

function replyCode(failure: Record<string, unknown>): number | undefined {
  const code = failure.responseCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
}

function isUnreachable(failure: Record<string, unknown>): boolean {
  return [failure.code, failure.originalCode].some(
    (code) => typeof code === 'string' && UNREACHABLE.has(code),
  );
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)
    : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
