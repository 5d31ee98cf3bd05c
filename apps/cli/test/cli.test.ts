import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import jwt from 'jsonwebtoken';
import { describe, it } from 'vitest';
import { createDb } from '@ticketflow/db';
import { adminDatabaseUrl, databaseUrl, redisUrl } from '@ticketflow/testing';
import { startServeChild } from './notifying-stack.ts';
import { lines, useCliFixture, type Finished } from './run-cli.ts';

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
  'deptemail',
  'clientemail',
  'contactemail',
];
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'];
/** Every queue of the job catalog, in its order. */
const QUEUES = ['replies', 'notifications', 'maintenance'];

const cli = useCliFixture();

/** The fixture's environment, with the secret the tokens here are verified with. */
function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cli.env({ TICKETFLOW_JWT_SECRET: SECRET, ...overrides });
}

function run(args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<Finished> {
  return cli.run(args, env);
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

/** `serve` on PORT=0, its port read from its start-up line (see notifying-stack.ts). */
function startServe(args: string[]) {
  return startServeChild(cli, args, cliEnv({ PORT: '0', LOG_LEVEL: 'info' }));
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
      deptemail: 'support@demo.example',
      clientemail: 'client@demo.example',
      contactemail: 'contact@demo.example',
    });
    const counts = await countRows(cli.database.url);

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
    expect(await countRows(cli.database.url)).toEqual(counts);
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

  it('tells where notification email goes: the absolute .eml directory without SMTP_URL, the SMTP server with it', async ({
    expect,
  }) => {
    const files = await run(['demo'], cliEnv({ TICKETFLOW_MAIL_DIR: 'demo-mail' }));
    expect(files.stderr).toBe('');
    expect(files.code).toBe(0);
    expect(files.stdout).toContain(
      `Notification email is written as .eml files under ${resolve('demo-mail')} `,
    );
    expect(files.stdout).toContain('a .eml file for support@demo.example appears there');

    const smtp = await run(['demo'], cliEnv({ SMTP_URL: 'smtp://user:pw@mail.example:2525' }));
    expect(smtp.code).toBe(0);
    expect(smtp.stdout).toContain(
      'Notification email is sent over SMTP to mail.example:2525: the reply above notifies support@demo.example.',
    );
    expect(smtp.stdout).not.toContain('pw@');
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

  it('prints zero counts for all six states of every catalog queue from queues --json on a fresh prefix, and counts a waiting job', async ({
    expect,
  }) => {
    const prefix = cli.newPrefix();
    const env = cliEnv({ TICKETFLOW_QUEUE_PREFIX: prefix });
    const zero = Object.fromEntries(STATES.map((s) => [s, 0]));

    const empty = await run(['queues', '--json'], env);
    expect(empty.stderr).toBe('');
    expect(empty.code).toBe(0);
    expect(lines(empty.stdout)).toHaveLength(1);
    expect(JSON.parse(empty.stdout)).toEqual({
      queues: QUEUES.map((name) => ({ name, counts: zero })),
    });

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
      queues: QUEUES.map((name) => ({
        name,
        counts: name === 'replies' ? { ...zero, waiting: 1 } : zero,
      })),
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
      checks: {
        redis: 'ok',
        database: 'ok',
        // The process runs workers: each queue's consumption watchdog answers too.
        workers: { replies: 'ok', notifications: 'ok', maintenance: 'ok' },
      },
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
