import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

const PANEL = 'https://panel.example';
const BODY_LIMIT = 4096;
const MESSAGE_LIMIT = 1024;

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      TICKETFLOW_CORS_ORIGINS: `${PANEL}, https://other-panel.example`,
      TICKETFLOW_MAX_BODY_BYTES: String(BODY_LIMIT),
      TICKETFLOW_MAX_MESSAGE_BYTES: String(MESSAGE_LIMIT),
    },
  });
});
afterAll(async () => {
  await stack.close();
});

const REPLY = '/api/v2/add-ticket-reply';
const BODY_TOO_LARGE = {
  result: 'error',
  message: 'Request body exceeds the limit of 4 KiB',
  code: 'payload_too_large',
};

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
}

/**
 * One request over node:http. Without `content-length` among the headers, the body goes out
 * chunk by chunk with `Transfer-Encoding: chunked`, so the server cannot know its size up front.
 */
function send(options: {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  chunks?: ReadonlyArray<string | Buffer>;
}): Promise<Answer> {
  const url = new URL(options.path ?? REPLY, stack.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: options.headers ?? {} },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
          });
        });
        res.on('error', reject);
      },
    );
    // The server may answer 413 and close before the last chunk is written; the answer is what counts.
    req.on('error', (error) => (req.writableEnded ? undefined : reject(error)));
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

const auth = () => ({ authorization: `Bearer ${stack.clientToken}` });

function multipart(
  parts: Array<{ name: string; value: string | Buffer; filename?: string; type?: string }>,
) {
  const boundary = `----ticketflow${randomBytes(8).toString('hex')}`;
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const type = part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`;
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    pieces.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(pieces) };
}

/** Splits a body into chunks of `size` bytes. */
function chunksOf(body: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) out.push(body.subarray(i, i + size));
  return out;
}

describe('CORS', () => {
  it('answers a preflight from an allowed origin with 204 and every method and header API.md §3 names', async () => {
    const answer = await send({
      method: 'OPTIONS',
      headers: {
        origin: PANEL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key',
      },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe(PANEL);
    const methods = String(answer.headers['access-control-allow-methods']).split(/\s*,\s*/);
    expect(methods).toEqual(expect.arrayContaining(['POST', 'GET']));
    const allowed = String(answer.headers['access-control-allow-headers'])
      .split(/\s*,\s*/)
      .map((h) => h.toLowerCase());
    expect(allowed).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'x-requested-with',
        'idempotency-key',
        'prefer',
        'cache-control',
      ]),
    );
    expect(String(answer.headers.vary)).toMatch(/origin/i);
  });

  it('puts Access-Control-Allow-Origin on a real POST from an allowed origin', async () => {
    const answer = await send({
      headers: { ...auth(), origin: PANEL, 'content-type': 'application/x-www-form-urlencoded' },
      chunks: [
        new URLSearchParams({
          ticketid: String(stack.seed.ticketId),
          message: 'from the panel',
        }).toString(),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe(PANEL);
  });

  it('puts Access-Control-Allow-Origin on an error from an allowed origin, so the browser can read it', async () => {
    const answer = await send({
      headers: { origin: PANEL, 'content-type': 'application/x-www-form-urlencoded' },
      chunks: ['ticketid=1&message=x'],
    });
    expect(answer.status).toBe(401);
    expect(answer.headers['access-control-allow-origin']).toBe(PANEL);
  });

  it('gives another origin no CORS headers at all, on a preflight or a POST', async () => {
    const corsHeaders = (headers: IncomingHttpHeaders) =>
      Object.keys(headers).filter((h) => h.startsWith('access-control-'));
    const preflight = await send({
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(corsHeaders(preflight.headers)).toEqual([]);
    const post = await send({
      headers: {
        ...auth(),
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      chunks: [
        new URLSearchParams({
          ticketid: String(stack.seed.ticketId),
          message: 'from elsewhere',
        }).toString(),
      ],
    });
    expect(post.status).toBe(200);
    expect(corsHeaders(post.headers)).toEqual([]);
    // A look-alike of an allowed origin is another origin.
    const lookalike = await send({
      method: 'OPTIONS',
      headers: { origin: `${PANEL}.evil.example`, 'access-control-request-method': 'POST' },
    });
    expect(corsHeaders(lookalike.headers)).toEqual([]);
  });
});

describe('body limits', () => {
  const bigMessage = 'x'.repeat(BODY_LIMIT + 100);

  it('answers 413 naming the limit to an urlencoded body over the limit', async () => {
    const jobsBefore = await countJobs(stack);
    const answer = await send({
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      chunks: [
        new URLSearchParams({
          ticketid: String(stack.seed.ticketId),
          message: bigMessage,
        }).toString(),
      ],
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(BODY_TOO_LARGE);
    // The worker stores asynchronously: a wrongly enqueued job shows in the queue at once.
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack, { message: bigMessage })).toBe(0);
  });

  it('answers 413 naming the limit to a JSON body over the limit', async () => {
    const answer = await send({
      headers: { ...auth(), 'content-type': 'application/json' },
      chunks: [JSON.stringify({ ticketid: stack.seed.ticketId, message: bigMessage })],
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(BODY_TOO_LARGE);
  });

  it('answers 413 naming the limit to a multipart body over the limit', async () => {
    const { contentType, body } = multipart([
      { name: 'ticketid', value: String(stack.seed.ticketId) },
      { name: 'message', value: bigMessage },
    ]);
    const answer = await send({
      headers: { ...auth(), 'content-type': contentType, 'content-length': String(body.length) },
      chunks: [body],
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(BODY_TOO_LARGE);
  });

  it('answers 413 naming the limit to a chunked urlencoded body that grows past the limit while streaming', async () => {
    const jobsBefore = await countJobs(stack);
    const body = Buffer.from(
      new URLSearchParams({
        ticketid: String(stack.seed.ticketId),
        message: bigMessage,
      }).toString(),
    );
    const answer = await send({
      headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
      chunks: chunksOf(body, 1000),
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(BODY_TOO_LARGE);
    // The worker stores asynchronously: a wrongly enqueued job shows in the queue at once.
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack, { message: bigMessage })).toBe(0);
  });

  it('answers 413 to a chunked multipart body whose one field is over the limit', async () => {
    const { contentType, body } = multipart([
      { name: 'ticketid', value: String(stack.seed.ticketId) },
      { name: 'message', value: bigMessage },
    ]);
    const answer = await send({
      headers: { ...auth(), 'content-type': contentType },
      chunks: chunksOf(body, 1000),
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ result: 'error', code: 'payload_too_large' });
  });

  // multer bounds each field only; many fields each under the limit must still add up to 413.
  it('answers 413 to a chunked multipart body whose fields together exceed the limit', async () => {
    const filler = 'y'.repeat(BODY_LIMIT - 100);
    const { contentType, body } = multipart([
      { name: 'ticketid', value: String(stack.seed.ticketId) },
      { name: 'message', value: 'many small fields' },
      ...Array.from({ length: 8 }, (_, i) => ({ name: `padding${i}`, value: filler })),
    ]);
    expect(body.length).toBeGreaterThan(BODY_LIMIT * 7);
    const answer = await send({
      headers: { ...auth(), 'content-type': contentType },
      chunks: chunksOf(body, 1000),
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual(BODY_TOO_LARGE);
  });

  it('counts the message limit in UTF-8 bytes, not characters: 413 over it, accepted at it', async () => {
    const over = 'é'.repeat(MESSAGE_LIMIT / 2 + 1); // 514 characters, 1028 bytes
    const jobsBefore = await countJobs(stack);
    const answer = await send({
      headers: { ...auth(), 'content-type': 'application/json' },
      chunks: [JSON.stringify({ ticketid: stack.seed.ticketId, message: over })],
    });
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'message exceeds the limit of 1 KiB of UTF-8',
      code: 'payload_too_large',
    });
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack, { message: over })).toBe(0);

    const atLimit = 'é'.repeat(MESSAGE_LIMIT / 2);
    const accepted = await send({
      headers: { ...auth(), 'content-type': 'application/json' },
      chunks: [JSON.stringify({ ticketid: stack.seed.ticketId, message: atLimit })],
    });
    expect(accepted.status).toBe(200);
    // The same count sees the accepted reply's job: the refusal's check above can fail.
    expect(await countJobs(stack)).toBe(jobsBefore + 1);
  });
});

describe('attachments and ignored headers', () => {
  it('accepts a real file part under attachments[] within the limits, enqueuing one job', async () => {
    const message = `with a file ${randomBytes(4).toString('hex')}`;
    const { contentType, body } = multipart([
      { name: 'ticketid', value: String(stack.seed.ticketId) },
      { name: 'message', value: message },
      {
        name: 'attachments[]',
        value: Buffer.from('hello, file\n'),
        filename: 'notes.txt',
        type: 'text/plain',
      },
    ]);
    const jobsBefore = await countJobs(stack);
    const answer = await send({
      headers: { ...auth(), 'content-type': contentType, 'content-length': String(body.length) },
      chunks: [body],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'success' });
    expect(await countJobs(stack)).toBe(jobsBefore + 1);
  });

  it('ignores Cache-Control and X-Requested-With (the jQuery sample sends both)', async () => {
    const answer = await send({
      headers: {
        ...auth(),
        'content-type': 'application/x-www-form-urlencoded',
        'cache-control': 'no-cache',
        'x-requested-with': 'XMLHttpRequest',
      },
      chunks: [
        new URLSearchParams({
          ticketid: String(stack.seed.ticketId),
          message: 'jQuery says hi',
        }).toString(),
      ],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ result: 'success', status: 'queued' });
    expect(answer.body).not.toHaveProperty('warnings');
  });
});
