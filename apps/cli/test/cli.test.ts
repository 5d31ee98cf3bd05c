import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createDb } from '@ticketflow/db';
import {
  adminDatabaseUrl,
  createTestDatabase,
  databaseUrl,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';

const BIN = fileURLToPath(new URL('../bin/ticketflow.mjs', import.meta.url));
const SECRET = randomBytes(32).toString('hex');
const DEMO_KEYS = [
  'url',
  'token',
  'stafftoken',
  'opstoken',
  'ticketid',
  'ticketnum',
  'clientid',
  'contactid',
];
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'];
/** How long a one-shot command may take before the test gives up on it (tsx start-up included). */
const COMMAND_DEADLINE_MS = 20_000;

let database: TestDatabase;
const prefixes: string[] = [];
/** Processes still running; afterAll kills what a failed test left behind. */
const running = new Set<ChildProcess>();

/** A BullMQ prefix for one test, deleted with the file's other keys in afterAll. */
function newPrefix(): string {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return prefix;
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(prefixes.map(deletePrefix));
  await database?.drop();
});

/**
 * The environment of every spawned CLI: only what it needs, so variables of the machine
 * running the tests (a public key file, another prefix) cannot change the outcome.
 */
function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl(),
    TICKETFLOW_QUEUE_PREFIX: newPrefix(),
    TICKETFLOW_JWT_SECRET: SECRET,
    ...overrides,
  };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Resolves when the child exits, with everything it printed; kills it after the deadline. */
function finished(child: ChildProcess, deadlineMs = COMMAND_DEADLINE_MS): Promise<Finished> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function run(args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<Finished> {
  return finished(spawnCli(args, env));
}

/** Non-empty output lines. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function verify(token: string): jwt.JwtPayload {
  return jwt.verify(token, SECRET, {
    audience: 'ticketflow',
    algorithms: ['HS256'],
  }) as jwt.JwtPayload;
}

/** A local TCP port nobody listens on: bound by us a moment ago, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function countRows(url: string): Promise<Record<string, number>> {
  const db = createDb(url, 1);
  try {
    const counts: Record<string, number> = {};
    for (const table of ['departments', 'custom_fields', 'clients', 'contacts', 'tickets']) {
      const [row] = await db(table).count<{ count: string }[]>('* as count');
      counts[table] = Number(row?.count);
    }
    return counts;
  } finally {
    await db.destroy();
  }
}

/**
 * Starts `serve` on PORT=0 and reads the port from its "ticketflow listening" log line (pino
 * JSON on stdout). The returned `exited` promise settles with everything the process printed.
 */
async function startServe(
  args: string[],
): Promise<{ child: ChildProcess; url: string; exited: Promise<Finished> }> {
  const child = spawnCli(['serve', ...args], cliEnv({ PORT: '0', LOG_LEVEL: 'info' }));
  const exited = finished(child, 60_000);
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      const line = complete.find((l) => l.includes('ticketflow listening'));
      if (!line) return;
      child.stdout!.off('data', onData);
      resolve((JSON.parse(line) as { port: number }).port);
    };
    child.stdout!.on('data', onData);
    void exited.then((f) =>
      reject(new Error(`serve exited before listening (${f.code}): ${f.stderr}${f.stdout}`)),
    );
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

describe.concurrent('ticketflow', () => {
  it('says the schema is current when migrate runs on a migrated database', async ({ expect }) => {
    const result = await run(['migrate']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('schema is current\n');
    expect(result.code).toBe(0);
  });

  it('prints one JSON line from demo --json, and a second run finds the same rows with fresh tokens', async ({
    expect,
  }) => {
    const first = await run(['demo', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(lines(first.stdout)).toHaveLength(1);
    const a = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(Object.keys(a).sort()).toEqual([...DEMO_KEYS].sort());
    expect(a).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) as unknown,
      ticketid: expect.any(Number) as unknown,
      ticketnum: expect.any(String) as unknown,
      clientid: expect.any(Number) as unknown,
      contactid: expect.any(Number) as unknown,
    });
    const counts = await countRows(database.url);

    // Tokens carry `iat` in whole seconds: wait into the next second so fresh tokens differ.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await run(['demo', '--json']);
    expect(second.code).toBe(0);
    const b = JSON.parse(second.stdout) as Record<string, unknown>;
    expect(b).toMatchObject({
      ticketid: a.ticketid,
      ticketnum: a.ticketnum,
      clientid: a.clientid,
      contactid: a.contactid,
    });
    for (const key of ['token', 'stafftoken', 'opstoken']) expect(b[key]).not.toBe(a[key]);
    expect(await countRows(database.url)).toEqual(counts);
  });

  it("prints demo tokens that verify with the secret: the client's for that client, staff and ops by role", async ({
    expect,
  }) => {
    const result = await run(['demo', '--json']);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      token: string;
      stafftoken: string;
      opstoken: string;
      clientid: number;
    };
    expect(verify(out.token)).toMatchObject({
      role: 'client',
      clientid: out.clientid,
      aud: 'ticketflow',
    });
    expect(verify(out.stafftoken)).toMatchObject({
      role: 'staff',
      admin: expect.any(String) as unknown,
    });
    expect(verify(out.opstoken)).toMatchObject({ role: 'ops', scope: 'ops:write' });
  });

  it('creates the database when demo names one that does not exist yet', async ({
    expect,
    onTestFinished,
  }) => {
    const name = `tf_test_new_${randomBytes(6).toString('hex')}`;
    onTestFinished(async () => {
      const admin = createDb(adminDatabaseUrl(), 1);
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    });
    const result = await run(['demo', '--json'], cliEnv({ DATABASE_URL: databaseUrl(name) }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(Object.keys(JSON.parse(result.stdout) as object).sort()).toEqual([...DEMO_KEYS].sort());
    expect(await countRows(databaseUrl(name))).toMatchObject({ tickets: 1 });
  });

  it('prints a staff token whose lifetime is the --ttl given', async ({ expect }) => {
    const result = await run([
      'token',
      '--role',
      'staff',
      '--sub',
      's1',
      '--admin',
      'Ann',
      '--ttl',
      '15m',
    ]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toHaveLength(1);
    const claims = verify(result.stdout.trim());
    expect(claims).toMatchObject({ role: 'staff', sub: 's1', admin: 'Ann', aud: 'ticketflow' });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it('exits 2 when token is missing --role', async ({ expect }) => {
    const result = await run(['token', '--sub', 's1']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining('--role') as unknown]);
  });

  it('exits 1 with one stderr line when a client token has no --clientid', async ({ expect }) => {
    const result = await run(['token', '--role', 'client', '--sub', 'x']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining('--clientid') as unknown]);
  });

  it('exits 1 with one stderr line naming PORT when PORT is not a number', async ({ expect }) => {
    const result = await run(['migrate'], cliEnv({ PORT: 'abc' }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining('PORT') as unknown]);
  });

  it('exits 2 on an unknown command', async ({ expect }) => {
    const result = await run(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining('frobnicate') as unknown]);
  });

  it('prints zero counts for all six states from queues --json on a fresh prefix, and counts a waiting job', async ({
    expect,
  }) => {
    const prefix = newPrefix();
    const env = cliEnv({ TICKETFLOW_QUEUE_PREFIX: prefix });
    const zero = Object.fromEntries(STATES.map((s) => [s, 0]));

    const empty = await run(['queues', '--json'], env);
    expect(empty.stderr).toBe('');
    expect(empty.code).toBe(0);
    expect(lines(empty.stdout)).toHaveLength(1);
    expect(JSON.parse(empty.stdout)).toEqual({ queues: [{ name: 'replies', counts: zero }] });

    // A producer outside Ticketflow (an email bridge) enqueues straight into BullMQ.
    const queue = new Queue('replies', { connection: { url: redisUrl() }, prefix });
    try {
      await queue.add('reply', { v: 1 });
    } finally {
      await queue.close();
    }
    const one = await run(['queues', '--json'], env);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({
      queues: [{ name: 'replies', counts: { ...zero, waiting: 1 } }],
    });
  });

  it('gives up within about 10 s, exit 1 and one stderr line, when Redis is unreachable', async ({
    expect,
  }) => {
    const result = await run(
      ['queues', '--json'],
      cliEnv({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([expect.stringContaining('Redis') as unknown]);
    // The CLI waits 5 s for Redis; the rest is tsx start-up, slower while the other tests spawn
    // theirs. Without that wait ioredis would reconnect forever and the command would hang.
    expect(result.ms).toBeLessThan(12_000);
  });

  it('serves /healthz and /readyz with ingress and worker together, and exits 0 on SIGTERM', async ({
    expect,
  }) => {
    const { child, url, exited } = await startServe([]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { redis: 'ok', database: 'ok' },
    });
    expect(ready.status).toBe(200);
    // The ingress is mounted: without a token the reply endpoint answers 401, not 404.
    expect((await fetch(`${url}/api/v2/add-ticket-reply`, { method: 'POST' })).status).toBe(401);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
  });

  it('serves only health from serve --worker: /healthz and /readyz answer, the reply endpoint is 404', async ({
    expect,
  }) => {
    const { child, url, exited } = await startServe(['--worker']);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/api/v2/add-ticket-reply`, { method: 'POST' })).status).toBe(404);
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
  });
});
