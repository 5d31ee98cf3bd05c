import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '@ticketflow/db';
import { adminDatabaseUrl } from '@ticketflow/testing';
import { freePort } from '@ticketflow/testing/peers';
import { startStack, type TestStack } from './stack.ts';
import { countJobs, countReplies } from './stack-counts.ts';

/** True once a Redis on `port` answers PING (spoken in RESP over a bare socket). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A private, throwaway redis-server: no RDB, no AOF, so killing it loses nothing anyone keeps. */
async function startRedisServer(port: number): Promise<ChildProcess> {
  // Another server still on the port would answer the PING below in this one's place.
  if (await answersPing(port)) throw new Error(`port ${port} already has a Redis`);
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port)) || child.exitCode !== null) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  ms: number;
}

async function postReply(
  stack: TestStack,
  message: string,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${stack.url}/api/v2/add-ticket-reply`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.clientToken}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...extra,
    },
    body: new URLSearchParams({ ticketid: String(stack.seed.ticketId), message }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

async function readiness(stack: TestStack): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(`${stack.url}/readyz`);
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

const unique = (what: string) => `${what} ${randomBytes(4).toString('hex')}`;

/** Resolves with `promise`, or with 'timed out' after `ms`: for teardown that may hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitUntilReady(stack: TestStack, timeoutMs: number): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await readiness(stack);
    if (ready.status === 200 || Date.now() > deadline) return ready;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('when Redis goes down', () => {
  let port: number;
  /** Every redis-server this suite started, so a failed test cannot leave one running. */
  const servers: ChildProcess[] = [];
  let redis: ChildProcess;
  let stack: TestStack;
  /** The reply refused during the outage; the last test checks it never arrives. */
  const refused = unique('during the outage');
  /** The reply accepted and persisted before the outage. */
  let persistedId: string;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    servers.push(redis);
    stack = await startStack({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    // With Redis gone for good, QueueEvents.close() inside stack.close() never settles, so the
    // last test brings Redis back first; the bound keeps a failure there from hanging the run.
    const closing = Promise.resolve()
      .then(() => stack.close())
      .then(() => 'closed');
    const outcome = await within(closing, 15_000).catch(
      (error: unknown) => `failed: ${String(error)}`,
    );
    for (const server of servers) await killProcess(server);
    expect(outcome).toBe('closed');
  }, 30_000);

  // That it stores nothing can only show once Redis is back: see the last test.
  it('answers 503 with Retry-After at once', async () => {
    const before = await postReply(stack, unique('before the outage'), { prefer: 'wait=10' });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ result: 'success', status: 'persisted' });
    persistedId = before.body.replyid as string;

    await killProcess(redis);
    const during = await postReply(stack, refused);
    console.log(`Redis outage: ${during.status} in ${during.ms.toFixed(1)} ms`);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(during.body).toMatchObject({ result: 'error', code: 'service_unavailable' });
    // Fail fast, not a benchmark: a request must not wait out reconnects or command timeouts.
    expect(during.ms).toBeLessThan(2000);
  });

  it("answers a persisted reply's status from PostgreSQL, and 503 at once where Redis must answer", async () => {
    const status = async (replyid: string) => {
      const started = performance.now();
      const res = await fetch(`${stack.url}/api/v2/replies/${replyid}`, {
        headers: { authorization: `Bearer ${stack.clientToken}` },
      });
      const body = (await res.json()) as Record<string, unknown>;
      return { status: res.status, body, ms: performance.now() - started };
    };
    const persisted = await status(persistedId);
    expect(persisted.status).toBe(200);
    expect(persisted.body).toMatchObject({ replyid: persistedId, status: 'persisted' });

    const unknown = await status(randomUUID());
    expect(unknown.status).toBe(503);
    expect(unknown.body).toMatchObject({ result: 'error', code: 'service_unavailable' });
    expect(unknown.ms).toBeLessThan(2000);
  });

  it('reports Redis as not ok on /readyz with 503', async () => {
    const ready = await readiness(stack);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not ready', checks: { database: 'ok' } });
    expect((ready.body.checks as { redis: string }).redis).not.toBe('ok');
  });

  it('accepts and persists replies again once Redis is back, never storing the refused one', async () => {
    await killProcess(redis);
    redis = await startRedisServer(port);
    servers.push(redis);
    expect((await waitUntilReady(stack, 15_000)).status).toBe(200);
    const after = await postReply(stack, unique('after the outage'), { prefer: 'wait=10' });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ result: 'success', status: 'persisted' });
    // The new Redis holds only what came after it: had the refused reply been kept in a client's
    // offline queue and sent on reconnect, its job would be here too, and the worker, which
    // has just stored the reply after it, would store it as well.
    expect(await countJobs(stack)).toBe(1);
    expect(await countReplies(stack, { message: refused })).toBe(0);
  });
});

describe('when PostgreSQL refuses connections', () => {
  let stack: TestStack;
  const admin = createDb(adminDatabaseUrl(), 1);
  const allowConnections = (allowed: boolean) =>
    admin.raw(
      `ALTER DATABASE ${stack.database.name} ALLOW_CONNECTIONS ${allowed ? 'true' : 'false'}`,
    );
  const message = unique('during the outage');
  let during: Answer;
  /** Jobs in the queue just before the refused reply. */
  let jobsBefore: number;

  beforeAll(async () => {
    stack = await startStack();
    const before = await postReply(stack, unique('before the outage'), { prefer: 'wait=10' });
    expect(before.status).toBe(200);
    // Closed to new connections, and every open one cut: the ingress's pool must reconnect and cannot.
    await allowConnections(false);
    await admin.raw(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()',
      [stack.database.name],
    );
    jobsBefore = await countJobs(stack);
    during = await postReply(stack, message);
  });
  afterAll(async () => {
    // close() drops the database, which needs connections allowed again.
    await allowConnections(true);
    await stack.close();
    await admin.destroy();
  });

  it('refuses the reply at once', () => {
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(during.body).toMatchObject({ result: 'error' });
    expect(during.ms).toBeLessThan(2000);
  });

  // SQLSTATE 55000 ("database … is not currently accepting connections") is an outage too.
  it('answers 503 service_unavailable with Retry-After (API.md §7)', () => {
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(during.body).toMatchObject({ result: 'error', code: 'service_unavailable' });
  });

  it('reports the database as not ok on /readyz with 503', async () => {
    const ready = await readiness(stack);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not ready', checks: { redis: 'ok' } });
    expect((ready.body.checks as { database: string }).database).not.toBe('ok');
  });

  it('stores nothing of the refused reply, and accepts replies again once PostgreSQL accepts connections', async () => {
    await allowConnections(true);
    // A job wrongly enqueued for it would sit in the queue, the worker failing on PostgreSQL and
    // retrying, so the reply count alone, read right now, could not show it.
    expect(await countJobs(stack)).toBe(jobsBefore);
    expect(await countReplies(stack, { message })).toBe(0);
    const after = await postReply(stack, unique('after the outage'), { prefer: 'wait=10' });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ result: 'success', status: 'persisted' });
    expect((await readiness(stack)).status).toBe(200);
  });
});
