import { lookup as dnsLookup } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkWebhookUrl, isPublicAddress } from './webhook-address.ts';

/** One delivery to send. */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** One deadline for connecting, sending and reading the response. */
  timeoutMs: number;
  /** Lets webhooks reach loopback and private networks (TICKETFLOW_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

/** What happened to one delivery attempt. */
export interface WebhookAttempt {
  /** HTTP status when a response arrived. */
  status?: number;
  /** Parsed Retry-After (delta seconds or HTTP date) in ms, when the response had one. */
  retryAfterMs?: number;
  durationMs: number;
  /** Network error, timeout or refusal, as a short sentence (no stack). */
  error?: string;
  /** True when the SSRF guard refused the target: the request never left. */
  refused?: boolean;
}

/** Receivers owe us a status, not a body; past this we stop reading and drop the socket. */
const MAX_RESPONSE_BYTES = 64 * 1024;

class RefusedAddressError extends Error {}

/**
 * Resolves like the default lookup but fails when any address is not public. It runs inside
 * connect, so the address checked is the address connected to: no window for DNS rebinding.
 * Node 20 asks for `all` addresses when it races IPv4 and IPv6 (autoSelectFamily), a single
 * one otherwise; both shapes are answered.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    const first = addresses[0];
    if (refused !== undefined || first === undefined) {
      const shown = refused?.address ?? 'no address';
      return callback(
        new RefusedAddressError(`${hostname} resolves to ${shown}, which is not a public address`),
        '',
      );
    }
    if (options.all === true) return callback(null, addresses);
    callback(null, first.address, first.family);
  });
};

// Agent options override request options and Node pools sockets by host and port only, so the
// lookup lives on the agent and each policy gets its own agents: a socket opened to a private
// address with allowPrivate must never be handed to a guarded request.
// Idle sockets close after 30 s, before most load balancers silently drop them; servers that
// announce a shorter Keep-Alive timeout are honoured by Node already.
const AGENT_OPTIONS = { keepAlive: true, timeout: 30_000 };
const GUARDED_AGENTS = {
  http: new http.Agent({ ...AGENT_OPTIONS, lookup: publicOnlyLookup }),
  https: new https.Agent({ ...AGENT_OPTIONS, lookup: publicOnlyLookup }),
};
const OPEN_AGENTS = { http: new http.Agent(AGENT_OPTIONS), https: new https.Agent(AGENT_OPTIONS) };

/**
 * POSTs one webhook and reports what happened; never throws and never follows redirects.
 * Unless `allowPrivate`, only public addresses are reached: an IP literal is checked here
 * (Node skips lookup for literals, and the URL parser has already turned `0x7f.1` or
 * `2130706433` into `127.0.0.1`), a host name at connect time by the agent's lookup.
 */
export async function postWebhook(req: WebhookRequest): Promise<WebhookAttempt> {
  const started = performance.now();
  const checked = checkWebhookUrl(req.url);
  if (!checked.ok) return { durationMs: elapsedMs(started), error: checked.reason, refused: true };
  const url = checked.url;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!req.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host)) {
    return {
      durationMs: elapsedMs(started),
      error: `${host} is not a public address`,
      refused: true,
    };
  }
  try {
    return await send(req, url, host, started);
  } catch (err) {
    // http.request throws synchronously on bad input, such as a header value with a newline.
    return { durationMs: elapsedMs(started), error: describeError(err, url) };
  }
}

function send(req: WebhookRequest, url: URL, host: string, started: number) {
  return new Promise<WebhookAttempt>((resolve) => {
    let status: number | undefined;
    let retryAfterMs: number | undefined;
    const finish = (failure?: Pick<WebhookAttempt, 'error' | 'refused'>) => {
      clearTimeout(deadline);
      const attempt: WebhookAttempt = { durationMs: elapsedMs(started), ...failure };
      if (status !== undefined) attempt.status = status;
      if (retryAfterMs !== undefined) attempt.retryAfterMs = retryAfterMs;
      resolve(attempt); // later calls are no-ops: a promise settles once
    };
    const deadline = setTimeout(() => {
      finish({ error: `timed out after ${req.timeoutMs} ms` });
      request.destroy();
    }, req.timeoutMs);

    const agents = req.allowPrivate ? OPEN_AGENTS : GUARDED_AGENTS;
    const options: http.RequestOptions = {
      method: 'POST',
      hostname: host,
      path: url.pathname + url.search,
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
    };
    if (url.port !== '') options.port = Number(url.port);
    const request =
      url.protocol === 'https:'
        ? https.request({ ...options, agent: agents.https })
        : http.request({ ...options, agent: agents.http });

    request.on('error', (err) => {
      finish(
        err instanceof RefusedAddressError
          ? { error: err.message, refused: true }
          : { error: describeError(err, url) },
      );
    });
    request.on('response', (res) => {
      status = res.statusCode;
      retryAfterMs = parseRetryAfterMs(res.headers['retry-after'], Date.now());
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          finish();
          res.destroy();
        }
      });
      // The status has arrived; a body cut short afterwards changes nothing about the attempt.
      res.on('error', () => finish());
      // Reading to the end is what returns the socket to the keep-alive pool.
      res.on('end', () => finish());
    });
    request.end(req.body);
  });
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function describeError(err: unknown, url: URL): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `${url.host} refused the connection`;
    case 'ENOTFOUND':
      return `${url.hostname} has no DNS address`;
    case 'ECONNRESET':
      return `${url.host} closed the connection before answering`;
    default:
      // Node 20 reports a failed IPv4/IPv6 race as an AggregateError with an empty message.
      return (err instanceof Error && err.message) || code || 'the request failed';
  }
}

function elapsedMs(started: number): number {
  return Math.round(performance.now() - started);
}
