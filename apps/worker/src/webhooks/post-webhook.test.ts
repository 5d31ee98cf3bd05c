import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { postWebhook, type WebhookRequest } from './post-webhook.ts';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  port: number;
  received: Received[];
  /** TCP connections accepted so far. */
  connections(): number;
}

/** A real HTTP server on 127.0.0.1, port 0; `respond` answers after the body has arrived. */
async function startReceiver(
  respond: (res: http.ServerResponse) => void = (res) => res.end('ok'),
): Promise<Receiver> {
  const received: Received[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      respond(res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as AddressInfo).port,
    received,
    connections: () => connections,
  };
}

const BODY = '{"type":"ticket.replied","note":"café ✓"}';

function request(url: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    url,
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body: BODY,
    timeoutMs: 5_000,
    allowPrivate: true,
    ...overrides,
  };
}

describe('postWebhook', () => {
  it('delivers the body and headers with a content-length and reports 200', async () => {
    const receiver = await startReceiver();
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/hook?x=1`));

    expect(attempt).toMatchObject({ status: 200 });
    expect(attempt.error).toBeUndefined();
    expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({
      method: 'POST',
      url: '/hook?x=1',
      body: BODY,
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_1',
        'content-length': String(Buffer.byteLength(BODY)),
      },
    });
  });

  it('reports a 500 as a status, not an error', async () => {
    const receiver = await startReceiver((res) => res.writeHead(500).end('boom'));
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/`));
    expect(attempt).toMatchObject({ status: 500 });
    expect(attempt.error).toBeUndefined();
    expect(attempt.retryAfterMs).toBeUndefined();
  });

  it('reads Retry-After in seconds from a 429', async () => {
    const receiver = await startReceiver((res) => res.writeHead(429, { 'retry-after': '1' }).end());
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/`));
    expect(attempt).toMatchObject({ status: 429, retryAfterMs: 1000 });
  });

  it('reads Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const receiver = await startReceiver((res) => res.writeHead(503, { 'retry-after': at }).end());
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/`));
    expect(attempt.status).toBe(503);
    // The date has whole seconds, so up to one second is lost, plus the round trip.
    expect(attempt.retryAfterMs).toBeGreaterThan(115_000);
    expect(attempt.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('does not follow a 301: the redirect target receives nothing', async () => {
    const target = await startReceiver();
    const redirecting = await startReceiver((res) =>
      res.writeHead(301, { location: `http://127.0.0.1:${target.port}/` }).end(),
    );
    const attempt = await postWebhook(request(`http://127.0.0.1:${redirecting.port}/`));
    expect(attempt).toMatchObject({ status: 301 });
    expect(target.received).toHaveLength(0);
  });

  it('gives up at the deadline when the endpoint never answers', async () => {
    const receiver = await startReceiver(() => {});
    const attempt = await postWebhook(
      request(`http://127.0.0.1:${receiver.port}/`, { timeoutMs: 300 }),
    );
    expect(attempt.error).toBe('timed out after 300 ms');
    expect(attempt.status).toBeUndefined();
    expect(attempt.durationMs).toBeGreaterThanOrEqual(290);
    expect(attempt.durationMs).toBeLessThan(5_000);
  });

  it('reports a closed port as a refused connection', async () => {
    const { port } = await startReceiver();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));

    const attempt = await postWebhook(request(`http://127.0.0.1:${closedPort}/`));
    expect(attempt.error).toBe(`127.0.0.1:${closedPort} refused the connection`);
    expect(attempt.status).toBeUndefined();
    expect(attempt.refused).toBeUndefined();
    expect(port).not.toBe(closedPort);
  });

  it('survives a 5 MiB response body', async () => {
    const receiver = await startReceiver((res) => res.end(Buffer.alloc(5 * 1024 * 1024, 'x')));
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/`));
    expect(attempt).toMatchObject({ status: 200 });
    expect(attempt.error).toBeUndefined();
  });

  it('stops reading an endless response body instead of running into the deadline', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const receiver = await startReceiver((res) => {
      res.writeHead(200);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', pump);
      pump();
    });
    const attempt = await postWebhook(request(`http://127.0.0.1:${receiver.port}/`));
    expect(attempt).toMatchObject({ status: 200 });
    expect(attempt.error).toBeUndefined();
  });

  it('reuses one keep-alive connection for consecutive deliveries to a host name', async () => {
    const receiver = await startReceiver();
    for (let i = 0; i < 3; i++) {
      const attempt = await postWebhook(request(`http://localhost:${receiver.port}/`));
      expect(attempt.status).toBe(200);
    }
    expect(receiver.received).toHaveLength(3);
    expect(receiver.connections()).toBe(1);
  });

  describe('with allowPrivate false', () => {
    it.each([
      ['the loopback address', (port: number) => `http://127.0.0.1:${port}/`],
      ['localhost, caught when its name resolves', (port: number) => `http://localhost:${port}/`],
      ['IPv6 loopback [::1]', (port: number) => `http://[::1]:${port}/`],
      ['::ffff:127.0.0.1', (port: number) => `http://[::ffff:127.0.0.1]:${port}/`],
      ['the decimal spelling 2130706433', (port: number) => `http://2130706433:${port}/`],
      ['the hex spelling 0x7f.1', (port: number) => `http://0x7f.1:${port}/`],
      ['the octal spelling 0177.0.0.1', (port: number) => `http://0177.0.0.1:${port}/`],
    ])('refuses %s before anything is sent', async (_case, url) => {
      const receiver = await startReceiver();
      const attempt = await postWebhook(request(url(receiver.port), { allowPrivate: false }));
      expect(attempt.refused).toBe(true);
      expect(attempt.error).toMatch(/not a public address/);
      expect(attempt.status).toBeUndefined();
      expect(receiver.received).toHaveLength(0);
      expect(receiver.connections()).toBe(0);
    });

    it('does not reuse a keep-alive socket opened while private addresses were allowed', async () => {
      const receiver = await startReceiver();
      const url = `http://localhost:${receiver.port}/`;
      expect((await postWebhook(request(url, { allowPrivate: true }))).status).toBe(200);

      const attempt = await postWebhook(request(url, { allowPrivate: false }));
      expect(attempt.refused).toBe(true);
      expect(receiver.received).toHaveLength(1);
    });

    it('refuses a URL that is not http or https', async () => {
      const attempt = await postWebhook(request('gopher://127.0.0.1:6379/_PING'));
      expect(attempt.refused).toBe(true);
      expect(attempt.error).toMatch(/"gopher:"/);
    });
  });
});
