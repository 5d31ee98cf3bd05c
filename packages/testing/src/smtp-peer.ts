import type { AddressInfo } from 'node:net';
import PostalMime, { type Email } from 'postal-mime';
import { SMTPServer } from 'smtp-server';

/** One message the peer accepted. */
export interface ReceivedMail {
  /** RCPT TO addresses. */
  to: string[];
  raw: Buffer;
  parsed: Email;
  /** A header's value by lower-case name (the first one when repeated). */
  header(name: string): string | undefined;
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives. */
export interface SmtpPeer {
  /** `smtp://127.0.0.1:<port>` for SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  /** Answers the next RCPT commands with these replies (e.g. 451, 550), one each, in order. */
  refuseNext(...replies: Array<{ code: number; text: string }>): void;
  close(): Promise<void>;
}

/**
 * Plain text only: smtp-server offers STARTTLS with a self-signed certificate by default, which
 * nodemailer would take up and then refuse to trust. No AUTH either: the tests' SMTP_URL has no
 * credentials.
 */
export async function startSmtpPeer(): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  const refusals: Array<{ code: number; text: string }> = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const refusal = refusals.shift();
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        PostalMime.parse(raw).then(
          (parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
              header: (name) => parsed.headers.find((h) => h.key === name.toLowerCase())?.value,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  // A client that dies mid-session (a SIGKILLed worker) resets its connection: that ends the
  // session, not the peer. Without a listener, SMTPServer's 'error' would crash the process.
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuseNext: (...replies) => refusals.push(...replies),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
