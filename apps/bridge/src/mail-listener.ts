import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import type { MailIngest } from './ingest-mail.ts';
import { TOO_LARGE, type MailOutcome, type ObserveMail } from './mail-outcome.ts';

/** A running SMTP or LMTP listener. */
export interface MailListener {
  port: number;
  close(): Promise<void>;
}

export interface MailListenerOptions {
  protocol: 'smtp' | 'lmtp';
  port: number;
  host: string;
  /** Announced as SIZE and enforced while the message streams in: 552 past it. */
  maxMessageBytes: number;
  mailbox: string;
  ingest: MailIngest;
  logger: Logger;
  /** Counts what the listener refuses before the pipeline reads it (a message over the limit). */
  observe?: ObserveMail;
}

/**
 * Takes messages over SMTP or LMTP (an MTA such as Postfix hands them over, so it is meant for
 * 127.0.0.1 or a private network: no AUTH, no STARTTLS). Each message is ingested once for all
 * its recipients: they are one mailbox, so every LMTP recipient gets the same answer. Posted or
 * dropped: 250. Refused: 550 with the reason, which the MTA bounces to the sender. A fault:
 * 451, and the MTA tries again later (the dedupe key keeps the retry to one reply).
 */
export async function startMailListener(options: MailListenerOptions): Promise<MailListener> {
  const server = new SMTPServer({
    lmtp: options.protocol === 'lmtp',
    banner: 'Ticketflow email bridge',
    size: options.maxMessageBytes,
    rejectOversized: true,
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // A reverse DNS lookup per connection would only slow local deliveries down.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      readAtMost(stream, options.maxMessageBytes).then(
        (raw) => {
          // Over the limit: smtp-server answers 552 itself, whatever is decided here.
          if (!raw) {
            options.observe?.('refused', TOO_LARGE);
            return callback();
          }
          options
            .ingest(raw, { mailbox: options.mailbox, principal: `bridge:${options.mailbox}` })
            .then(
              (outcome) => callback(...answer(outcome)),
              (error: unknown) => {
                options.logger.warn(
                  { err: (error as Error).message },
                  `${options.protocol}: message deferred`,
                );
                callback(smtpError(451, 'Temporary failure: try again later'));
              },
            );
        },
        (error: Error) => callback(error),
      );
    },
  });
  server.on('error', (error) =>
    options.logger.warn({ err: error.message }, `${options.protocol} error`),
  );
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The message's bytes; undefined once it passes `max` (the rest is read and discarded). */
function readAtMost(stream: SMTPServerDataStream, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else chunks.length = 0;
    });
    stream.once('error', reject);
    stream.once('end', () => resolve(size <= max ? Buffer.concat(chunks) : undefined));
  });
}

function answer(outcome: MailOutcome): [Error | null, string?] {
  switch (outcome.outcome) {
    case 'posted':
      return [null, `OK: posted as reply ${outcome.replyid} on ticket ${outcome.tid}`];
    case 'dropped':
      return [null, `OK: dropped, an automatic message (${outcome.reason})`];
    case 'refused':
      return [smtpError(550, outcome.error.message)];
  }
}

/** An SMTP reply line: one line, whatever the message held. */
function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text.replace(/[\r\n]+/g, ' ')), { responseCode: code });
}
