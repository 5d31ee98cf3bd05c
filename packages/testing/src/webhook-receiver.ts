import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST the receiver saw, and what it answered. */
export interface ReceivedWebhook {
  /** `webhook-id`, `webhook-timestamp` headers. */
  id: string;
  timestamp: number;
  body: string;
  /** True when the Standard Webhooks reference library verified the signature. */
  verified: boolean;
  /** The status it answered with. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

/** What to answer to the nth POST (0-based), given its webhook-id. */
export type WebhookAnswer = (
  n: number,
  delivery: { id: string; body: string },
) => { status: number; headers?: Record<string, string>; delayMs?: number };

/** A real HTTP receiver on 127.0.0.1 that verifies every signature with the reference library. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Deliveries it answered 2xx, by webhook-id. */
  accepted(): ReceivedWebhook[];
  /** Changes the answers from now on (default: 200 at once). */
  answer(fn: WebhookAnswer): void;
  /** Stops listening (the endpoint is down) without forgetting what it received. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  let answer: WebhookAnswer = () => ({ status: 200 });
  let server: Server | undefined;
  let port = 0;

  const handle = async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    let verified = true;
    try {
      verifier.verify(body, headers);
    } catch {
      verified = false;
    }
    const n = received.length;
    const reply = answer(n, { id: headers['webhook-id'], body });
    received.push({
      id: headers['webhook-id'],
      timestamp: Number(headers['webhook-timestamp']),
      body,
      verified,
      status: reply.status,
      at: Date.now(),
    });
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    res.writeHead(reply.status, reply.headers ?? {});
    res.end();
  };

  const start = async () => {
    const listening = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => resolve());
    });
    port = (listening.address() as AddressInfo).port;
    server = listening;
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (!running) return;
    running.closeAllConnections();
    await new Promise((resolve) => running.close(resolve));
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    answer: (fn) => {
      answer = fn;
    },
    start,
    stop,
    close: stop,
  };
}
