import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createArrivals, type Arrivals } from './arrivals.ts';

/**
 * An SMTP server on 127.0.0.1 that accepts every message and keeps nothing. Unlike
 * @ticketflow/testing's peer it parses no message (postal-mime would cost the orchestrator,
 * whose CPU the notes count, more than the worker's send): it drains the DATA stream and
 * notes the arrival. Plain text and no AUTH, as the worker's `smtp://127.0.0.1:<port>` expects.
 */
export interface SmtpSink {
  /** For SMTP_URL. */
  url: string;
  arrivals: Arrivals;
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const arrivals = createArrivals();
  let received = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // nodemailer's pool keeps its connections between rounds; the default 60 s could drop them.
    socketTimeout: 300_000,
    // On close, the worker's pooled connections are still open: drop them after a second, not 30.
    closeTimeout: 1000,
    onData(stream, _session, callback) {
      stream.on('end', () => {
        // Messages carry no id the sink could read without parsing: each one counts once.
        arrivals.note(String(++received));
        callback();
      });
      stream.resume();
    },
  });
  server.on('error', () => {
    // A client dropping its connection mid-session; the worker's retry is what the run sees.
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    arrivals,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
