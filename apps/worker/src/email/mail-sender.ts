import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';

/** What became of one message. */
export interface SentMail {
  /** The Message-ID it went out with. */
  messageId: string;
  /** SMTP response line, or the .eml path in file mode. */
  detail: string;
}

/** Sends notification email; the worker's only SMTP edge. */
export interface MailSender {
  readonly mode: 'smtp' | 'files';
  /** Rejects with nodemailer's error: classify it with `isPermanentSmtpFailure`. */
  send(message: SendMailOptions): Promise<SentMail>;
  /** Closes pooled connections; a message in flight still completes. */
  close(): void;
}

/**
 * SMTP through a pooled nodemailer transport when `smtpUrl` is set (`smtp://`, `smtps://`,
 * credentials in the URL). Otherwise each message is written as `<mailDir>/<Message-ID>.eml`,
 * so a newcomer sees the mail without running a server. The file is written to a temporary
 * name and renamed, and named by Message-ID, so a retried send replaces the file rather than
 * adding a second one or leaving half of one. `mailDir` is created when missing.
 */
export function createMailSender(options: { smtpUrl?: string; mailDir: string }): MailSender {
  return options.smtpUrl === undefined || options.smtpUrl === ''
    ? fileSender(options.mailDir)
    : smtpSender(options.smtpUrl);
}

function smtpSender(url: string): MailSender {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    // Written out, not left to nodemailer's default (also 5): relays often refuse more
    // concurrent connections per client than that.
    maxConnections: 5,
    // nodemailer waits 2 min for a connection and 10 min on an idle socket by default; a job
    // stuck that long holds a worker slot, and a retry with backoff is the better wait.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    mode: 'smtp',
    async send(message) {
      const info = await transport.sendMail(message);
      return { messageId: info.messageId, detail: info.response };
    },
    close: () => transport.close(),
  };
}

function fileSender(dir: string): MailSender {
  // CRLF line ends: the file holds the bytes SMTP would have carried.
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
  });
  return {
    mode: 'files',
    async send(message) {
      const info = await transport.sendMail(message);
      // Created on every send, not once: a developer may empty the folder while the worker runs.
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${fileName(info.messageId)}.eml`);
      const temporary = join(dir, `.${randomUUID()}.tmp`);
      try {
        await writeFile(temporary, info.message as Buffer, { flag: 'wx' });
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      return { messageId: info.messageId, detail: path };
    },
    // Nothing stays open between sends.
    close: () => undefined,
  };
}

/**
 * The Message-ID without its brackets, reduced to characters safe in any file system: no
 * separators, so a crafted id cannot leave `dir`, and no leading dot, which would hide it
 * among the temporary files.
 */
function fileName(messageId: string): string {
  const safe = messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9@._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 200);
  return safe === '' ? 'message' : safe;
}
