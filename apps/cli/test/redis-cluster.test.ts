import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@ticketflow/config';
import { catalogQueues, jobCatalog } from '@ticketflow/queue';
import { startRedisCluster, until, type RedisCluster } from '@ticketflow/testing/peers';
import { startNotifyingStack, type NotifyingStack, type ServeChild } from './notifying-stack.ts';
import { lines, useCliFixture } from './run-cli.ts';
import { scrapeMetrics } from './scrape-metrics.ts';

// Issue 13, scale-out on an existing engine: a Redis Cluster of the test's own (three masters),
// two `serve --ingress` and three `serve --worker` processes on a hash-tagged prefix, a load
// spread over both ingresses, then: every reply answered 200 stored once, every notification
// delivered once per target, the queues drained, and the operator's tools reading the cluster.
const cli = useCliFixture();
let cluster: RedisCluster;
let stack: NotifyingStack;
/** The second ingress and the three workers (the stack's own process is the first ingress). */
const more: ServeChild[] = [];
const everyUrl = () => [stack.url, ...more.map((p) => p.url)];

beforeAll(async () => {
  cluster = await startRedisCluster();
  stack = await startNotifyingStack(cli, {
    env: {
      REDIS_CLUSTER_NODES: cluster.nodes,
      TICKETFLOW_QUEUE_PREFIX: `{tf-${randomBytes(4).toString('hex')}}`,
      // The whole load goes to the one demo ticket.
      TICKETFLOW_RATE_LIMIT_PER_TICKET: '100000',
    },
    serveArgs: ['--ingress'],
  });
  more.push(
    ...(await Promise.all([
      stack.serve(['--ingress']),
      stack.serve(['--worker']),
      stack.serve(['--worker']),
      stack.serve(['--worker']),
    ])),
  );
  // As a load balancer would: a process listens before its cluster client is ready (connected,
  // slots read, CLUSTER INFO ok), and an ingress answers 503 until it is.
  await until(
    'every process ready',
    async () => {
      const answers = await Promise.all(everyUrl().map((url) => fetch(`${url}/readyz`)));
      return answers.every((res) => res.status === 200);
    },
    30_000,
  );
}, 60_000);
afterAll(async () => {
  for (const { child } of more) child.kill('SIGTERM');
  await Promise.all(more.map((p) => p.exited));
  await stack?.close();
  await cluster?.close();
});

/** Distinct replies of the load: plain, then with an Idempotency-Key, then sent twice. */
const PLAIN = 240;
const KEYED = 40;
const TWICE = 10;
/** Requests in flight at once, over both ingresses. */
const IN_FLIGHT = 16;

/** Every this many plain replies, one asks `Prefer: wait` (the event stream on the cluster). */
const WAIT_EVERY = 20;

interface Answer {
  status: number;
  replyid: string | undefined;
  replayed: boolean;
  /** With `Prefer: wait`: the state the ingress answered (`persisted` once the worker stored it). */
  state?: string;
  /** The error's message, so a failed assertion says what went wrong. */
  message?: string;
}

/** One reply as the seeded client, urlencoded or JSON (alternately), to `url`. */
async function post(
  url: string,
  n: number,
  options: { key?: string; wait?: boolean } = {},
): Promise<Answer> {
  const fields = { ticketid: String(stack.seed.ticketId), message: `cluster load ${n}` };
  const json = n % 2 === 0;
  const res = await fetch(`${url}/api/v2/add-ticket-reply`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.token('client', { clientid: stack.seed.clientId })}`,
      'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
      ...(options.key ? { 'idempotency-key': options.key } : {}),
      ...(options.wait ? { prefer: 'wait=20' } : {}),
    },
    body: json ? JSON.stringify(fields) : new URLSearchParams(fields),
  });
  const body = (await res.json()) as { replyid?: string; message?: string; status?: string };
  return {
    status: res.status,
    replyid: body.replyid,
    replayed: res.headers.get('idempotent-replayed') === 'true',
    ...(options.wait ? { state: body.status } : {}),
    ...(res.status === 200 ? {} : { message: body.message }),
  };
}

/** Runs `tasks` with at most `limit` at once; resolves with their results in order. */
async function inFlight<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('Ticketflow on a Redis Cluster', () => {
  it(
    'stores every accepted reply once and delivers each notification once per target',
    { timeout: 90_000 },
    async () => {
      const ingresses = [stack.url, more[0]!.url];
      const key = (n: number) => `cluster-${n}`;
      const tasks = [
        ...Array.from(
          { length: PLAIN },
          (_, n) => () =>
            post(ingresses[n % 2]!, n, { wait: n % WAIT_EVERY === 0 }).then((a) => [a]),
        ),
        // The same key again at the other ingress: the first answer again, nothing stored twice.
        ...Array.from({ length: KEYED }, (_, i) => async () => {
          const n = PLAIN + i;
          const first = await post(ingresses[n % 2]!, n, { key: key(n) });
          return [first, await post(ingresses[(n + 1) % 2]!, n, { key: key(n) })];
        }),
        // Twice without a key: two replies, as the client asked twice.
        ...Array.from({ length: TWICE }, (_, i) => () => {
          const n = PLAIN + KEYED + i;
          return Promise.all([post(ingresses[0]!, n), post(ingresses[1]!, n)]);
        }),
      ];
      const answers = await inFlight(IN_FLIGHT, tasks);

      expect(answers.flat().filter((a) => a.status !== 200)).toEqual([]);
      // Those that waited saw their reply stored, through each ingress's event stream.
      const waited = answers.flat().filter((a) => a.state !== undefined);
      expect(waited).toHaveLength(PLAIN / WAIT_EVERY);
      expect(waited.filter((a) => a.state !== 'persisted')).toEqual([]);
      for (const [first, retry] of answers.slice(PLAIN, PLAIN + KEYED)) {
        expect(retry).toEqual({ status: 200, replyid: first!.replyid, replayed: true });
      }
      const accepted = [...new Set(answers.flat().map((a) => a.replyid!))].sort();
      expect(accepted).toHaveLength(PLAIN + KEYED + 2 * TWICE);

      const db = cli.database.db;
      const stored = () =>
        db('ticket_replies')
          .where('message', 'like', 'cluster load %')
          .orderBy('reply_uid')
          .pluck<string[]>('reply_uid');
      await until(
        'every accepted reply stored',
        async () => (await stored()).length >= accepted.length,
        30_000,
      );
      expect(await stored()).toEqual(accepted);

      const mails = () =>
        stack.smtp.received.filter((m) =>
          accepted.includes(m.header('x-ticketflow-reply-id') ?? ''),
        );
      const hooks = () =>
        stack.hooks.received.filter((h) => accepted.some((id) => h.body.includes(id)));
      await until(
        'an email and a webhook for every reply',
        () => mails().length >= accepted.length && hooks().length >= accepted.length,
        30_000,
      );
      const queues = await stack.drained();
      expect(queues.map((q) => q.name)).toEqual(
        catalogQueues(jobCatalog(parseConfig(stack.env))).map((q) => q.name),
      );

      // Drained: whatever was going to be delivered has been. Once per target, by its own id.
      expect(mails().map((m) => m.to)).toEqual(accepted.map(() => [stack.seed.departmentEmail]));
      expect(new Set(mails().map((m) => m.header('message-id'))).size).toBe(accepted.length);
      expect(new Set(mails().map((m) => m.header('x-ticketflow-reply-id'))).size).toBe(
        accepted.length,
      );
      expect(hooks().every((h) => h.status === 200 && h.verified)).toBe(true);
      expect(new Set(hooks().map((h) => h.id)).size).toBe(hooks().length);
      expect(hooks()).toHaveLength(accepted.length);
    },
  );

  it('serves the operator: doctor checks every master, the dashboard, metrics and /readyz', async () => {
    const masters = cluster.servers.map((s) => new Redis(s.url));
    try {
      // Persistence as production runs it, so only a master's own setting can fail doctor.
      for (const master of masters) {
        await master.config('SET', 'appendonly', 'yes');
        await master.config('SET', 'appendfsync', 'always');
      }
      const healthy = await cli.run(['doctor', '--json'], stack.env);
      const report = JSON.parse(healthy.stdout) as DoctorJson;
      expect(report.checks.filter((c) => !c.ok || c.warning)).toEqual([]);
      expect(healthy.code).toBe(0);
      expect(report.checks.find((c) => c.name === 'redis')?.detail).toMatch(
        new RegExp(`^7\\.\\S+ at Redis Cluster ${cluster.nodes} \\(3 masters\\)$`),
      );
      for (const name of ['replies', 'notifications', 'maintenance']) {
        expect(report.checks.find((c) => c.name === `queue ${name}`)?.detail).toMatch(
          /^3 workers connected; /,
        );
      }

      await masters[2]!.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const evicting = await cli.run(['doctor'], stack.env);
      expect(evicting.code).toBe(1);
      const third = `127.0.0.1:${cluster.servers[2]!.port}`;
      expect(lines(evicting.stdout).filter((l) => l.includes('maxmemory-policy'))).toEqual([
        expect.stringMatching(
          /^✓ redis maxmemory-policy: 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+: noeviction$/,
        ),
        expect.stringMatching(new RegExp(`^✗ redis maxmemory-policy: ${third}: allkeys-lru: `)),
      ]);
    } finally {
      for (const master of masters) master.disconnect();
    }

    const ops = { authorization: `Bearer ${stack.token('ops')}` };
    const board = await fetch(`${stack.url}/admin/queues/api/queues?page=1&jobsPerPage=10`, {
      headers: ops,
    });
    expect(board.status).toBe(200);
    const boards = (await board.json()) as { queues: Array<{ name: string }> };
    expect(boards.queues.map((q) => q.name).sort()).toEqual([
      'maintenance',
      'notifications',
      'replies',
    ]);
    expect(
      (await fetch(`${stack.url}/admin/queues/api/redis/stats`, { headers: ops })).status,
    ).toBe(200);

    const scrape = await scrapeMetrics(more[1]!.url, stack.token('ops'));
    expect(scrape.value('ticketflow_queue_jobs', { queue: 'replies', state: 'waiting' })).toBe(0);

    for (const url of everyUrl()) {
      const ready = await fetch(`${url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { redis: 'ok' } });
    }
  });
});

interface DoctorJson {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; warning?: boolean; detail: string }>;
}
