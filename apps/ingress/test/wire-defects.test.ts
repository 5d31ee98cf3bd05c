import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf, postForm, type Answer } from './answers.ts';
import { startStack, type TestStack } from './stack.ts';

// Defects outside clients found on main (issue 13), each reproduced here first.
let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.close();
});

function post(
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return postForm(`${stack.url}/api/v2/add-ticket-reply`, fields, {
    authorization: `Bearer ${stack.staffToken}`,
    ...headers,
  });
}

async function ticket(): Promise<string> {
  const [row] = await stack.database
    .db('tickets')
    .insert({
      tid: `W-${randomUUID().slice(0, 8)}`,
      department_id: stack.seed.departmentId,
      client_id: stack.seed.clientId,
      subject: 'wire defects',
    })
    .returning<{ id: number }[]>('id');
  return String(row!.id);
}

/** Sends raw bytes and reads the whole answer: what Node's HTTP parser refuses never reaches fetch. */
function raw(request: string): Promise<string> {
  const { port } = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

function jsonOf(response: string): Record<string, unknown> {
  return JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
}

describe('errors the HTTP layer raises answer in the JSON error shape', () => {
  it('answers a path parameter that is not percent-encoded UTF-8 with 400, not 500', async () => {
    const answer = await answerOf(
      await fetch(`${stack.url}/api/v2/replies/%ED%A0%80`, {
        headers: { authorization: `Bearer ${stack.staffToken}` },
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      result: 'error',
      message: 'Invalid path: it is not valid percent-encoded UTF-8',
      code: 'invalid_parameter',
    });
  });

  it('answers headers over the parser limit with 431 and a JSON body', async () => {
    const response = await raw(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(response).toMatch(/content-type: application\/json/i);
    expect(jsonOf(response)).toEqual({
      result: 'error',
      message:
        'Request headers (or the URL) exceed the limit of 16 KiB; send large values in the body',
      code: 'headers_too_large',
    });
  });

  it('answers a query string over the parser limit with 431 too', async () => {
    const response = await raw(`GET /healthz?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonOf(response)).toMatchObject({ code: 'headers_too_large' });
  });

  it('answers a request the parser cannot read with 400 and a JSON body', async () => {
    const response = await raw('NOT A REQUEST\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonOf(response)).toEqual({
      result: 'error',
      message: 'Malformed HTTP request',
      code: 'malformed_request',
    });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer byte for byte', async () => {
    const fields = { ticketid: await ticket(), message: 'bytes' };
    const key = { 'idempotency-key': randomUUID() };
    const auth = { authorization: `Bearer ${stack.staffToken}` };
    const send = () =>
      fetch(`${stack.url}/api/v2/add-ticket-reply`, {
        method: 'POST',
        headers: { ...auth, ...key, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    const first = await (await send()).text();
    const again = await send();
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(first);
    expect(first).toMatch(
      /^\{"result":"success","replyid":"[^"]+","ticketid":\d+,"status":"queued"\}$/,
    );
  });

  it('frees a key whose request died within the lease, and says the real wait meanwhile', async () => {
    const fields = { ticketid: await ticket(), message: 'lease' };
    const key = randomUUID();
    const first = await post(fields, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    // What a SIGKILLed ingress leaves: a claim nobody renews or completes.
    const db = stack.database.db;
    await db('idempotency_keys')
      .where({ key })
      .update({ response_status: null, response_body: null, created_at: db.fn.now() });
    const busy = await post(fields, { 'idempotency-key': key });
    expect(busy.status).toBe(409);
    const wait = Number(busy.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(9);
    expect(wait).toBeLessThanOrEqual(10);
    // The lease lapses (moved into the past rather than waited for).
    await db('idempotency_keys')
      .where({ key })
      .update({ created_at: db.raw("now() - interval '11 seconds'") });
    const retried = await post(fields, { 'idempotency-key': key });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers success once the job is enqueued, even when its answer cannot be recorded', async () => {
    const db = stack.database.db;
    // PostgreSQL refuses to record the answer, as when its connection is cut after the enqueue.
    await db.raw(`
      CREATE FUNCTION refuse_answers() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'connection cut (simulated)'; END $$;
      CREATE TRIGGER refuse_answers BEFORE UPDATE OF response_status ON idempotency_keys
        FOR EACH ROW WHEN (NEW.response_status IS NOT NULL) EXECUTE FUNCTION refuse_answers();
    `);
    try {
      const message = `accepted ${randomUUID()}`;
      const answer = await post(
        { ticketid: await ticket(), message },
        { 'idempotency-key': randomUUID() },
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ result: 'success', status: 'queued' });
      const jobs = await stack.queue.getJobs(['waiting']);
      expect(jobs.filter((job) => job.data.message === message)).toHaveLength(1);
    } finally {
      await db.raw(
        'DROP TRIGGER refuse_answers ON idempotency_keys; DROP FUNCTION refuse_answers();',
      );
    }
  });
});
