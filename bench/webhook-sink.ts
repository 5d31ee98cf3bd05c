import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createArrivals, type Arrivals } from './arrivals.ts';

/** One in this many deliveries has its signature checked (the first of each reset included). */
const VERIFY_EVERY = 100;

/**
 * A webhook receiver on 127.0.0.1 for the bench. Unlike @ticketflow/testing's, it keeps no
 * bodies and runs no reference verifier on every delivery: it runs in the orchestrator, whose
 * CPU the notes count, so it notes each `webhook-id` when it arrives, counts bytes and checks
 * a sample of signatures (a side that stopped signing, or signed wrong, fails the run).
 */
export interface WebhookSink {
  /** The endpoint URL to register. */
  url: string;
  arrivals: Arrivals;
  /** Body bytes received since the last reset, to compare what the sides send. */
  readonly bytes: number;
  /** Sampled deliveries whose `webhook-signature` did not match. */
  readonly badSignatures: number;
  /** Forgets what arrived (between rounds and sides). */
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookSink(options: {
  /** The endpoint's `whsec_` secret. */
  secret: string;
  /** Answer 200 only after this long, holding the connection open (a slow endpoint). */
  answerAfterMs?: number;
}): Promise<WebhookSink> {
  const key = Buffer.from(options.secret.replace(/^whsec_/, ''), 'base64');
  const arrivals = createArrivals();
  let bytes = 0;
  let badSignatures = 0;
  const held = new Set<NodeJS.Timeout>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const id = String(req.headers['webhook-id'] ?? '');
    const sampled = arrivals.count % VERIFY_EVERY === 0;
    arrivals.note(id);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (sampled) chunks.push(chunk);
    });
    req.on('end', () => {
      if (sampled && !isSigned(req, id, Buffer.concat(chunks).toString('utf8'), key)) {
        badSignatures++;
      }
      const answer = () => {
        res.writeHead(200);
        res.end();
      };
      if (!options.answerAfterMs) return answer();
      const timer = setTimeout(() => {
        held.delete(timer);
        answer();
      }, options.answerAfterMs);
      held.add(timer);
    });
  };

  const server = createServer(handle);
  // Longer than any pause between rounds, so a client never reuses a socket the sink is closing
  // (which would fail one attempt and put a retry into the measurement).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    get bytes() {
      return bytes;
    },
    get badSignatures() {
      return badSignatures;
    },
    reset() {
      arrivals.reset();
      bytes = 0;
      badSignatures = 0;
    },
    close() {
      for (const timer of held) clearTimeout(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Standard Webhooks: one of the space-separated `v1,` entries is HMAC-SHA256 of `id.ts.body`. */
function isSigned(req: IncomingMessage, id: string, body: string, key: Buffer): boolean {
  const timestamp = String(req.headers['webhook-timestamp'] ?? '');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const signatures = String(req.headers['webhook-signature'] ?? '').split(' ');
  return signatures.includes(`v1,${expected}`);
}
