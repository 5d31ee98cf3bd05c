// Baseline (s): the hand-written email bridge a user would write instead of Ticketflow's: take
// the message over SMTP, parse it with postal-mime, queue.add what a reply needs, answer 250.
// No ticket lookup, no quoted history removed, no dedupe, no record: an upper bound.
import { createServer } from 'node:http';
import PostalMime from 'postal-mime';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { env } from './env.ts';
import { openRepliesQueue } from './replies-queue.ts';

const queue = openRepliesQueue();

// Set up as the product's listener is: local deliveries, no AUTH or STARTTLS, and no reverse
// DNS lookup per connection, which would only slow this side down.
const smtp = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  onData(stream, _session, callback) {
    // 250 once Redis holds the job; a 451 otherwise, so the sender keeps the message.
    enqueue(stream).then(
      () => callback(),
      (error: Error) => callback(Object.assign(new Error(error.message), { responseCode: 451 })),
    );
  },
});

async function enqueue(stream: SMTPServerDataStream): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const email = await PostalMime.parse(Buffer.concat(chunks));
  await queue.add('reply', {
    from: email.from?.address,
    subject: email.subject,
    text: email.text,
    messageId: email.messageId,
    receivedAt: new Date().toISOString(),
  });
}

// What the orchestrator polls before it sends, so it listens once SMTP does.
const health = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end();
});
smtp.listen(Number(env('SMTP_PORT')), '127.0.0.1', () =>
  health.listen(Number(env('PORT')), '127.0.0.1'),
);

process.on('SIGTERM', () => {
  health.close();
  smtp.close(() => void queue.close().then(() => process.exit(0)));
});
