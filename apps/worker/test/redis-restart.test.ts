import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLY_JOB, replyJobId } from '@ticketflow/contract';
import { createRedis, jobOptions, openQueue, type ReplyQueue } from '@ticketflow/queue';
import { startRedisServer, startTcpProxy, type RedisServer } from '@ticketflow/testing/peers';
import {
  CATALOG,
  replyJob,
  until,
  useWorkerFixture,
  type WorkerProcess,
} from './worker-fixture.ts';

// The known BullMQ failure is a worker that stops consuming after Redis comes back. Here a real
// `serve --worker` runs against a Redis of the test's own, which is crashed and restarted (AOF
// with appendfsync always, as docker-compose ships): the worker must consume again within 30 s
// and say so on /readyz.
const fixture = useWorkerFixture({ tidPrefix: 'RESTART', subject: 'redis restart' });
let redis: RedisServer;
let queue: ReplyQueue;
const producer = () => createRedis(redis.url, 'worker');
let connection: ReturnType<typeof producer>;

beforeAll(async () => {
  redis = await startRedisServer({ aof: true });
  connection = producer();
  queue = openQueue<ReplyQueue>(CATALOG.replies, connection, fixture.prefix);
});
afterAll(async () => {
  await queue?.close().catch(() => undefined);
  connection?.disconnect();
  await redis?.close();
});

async function enqueue(ticketId: number): Promise<string> {
  const data = replyJob(ticketId);
  await queue.add(
    REPLY_JOB,
    data,
    jobOptions(CATALOG.replies.jobs.reply, replyJobId(data.replyid)),
  );
  return data.dedupeKey;
}

/** The port `serve --worker` listens on, from its start-up line. */
async function portOf(worker: WorkerProcess): Promise<number> {
  const line = await until(
    'the worker to listen',
    () => Promise.resolve(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(worker.output())),
    20_000,
    worker.output,
  );
  return Number(line[1]);
}

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * The ticket's first reply and the five sent since `since` are stored, each once, within the
 * 30 s the issue allows a worker to consume again.
 */
async function expectStoredOnceWithin30s(
  ticketId: number,
  keys: string[],
  since: number,
  worker: WorkerProcess,
): Promise<void> {
  await until(
    'the replies sent since the fault',
    async () => (await fixture.replyCount({ ticket_id: ticketId })) === keys.length + 1,
    30_000,
    worker.output,
  );
  expect(Date.now() - since).toBeLessThan(30_000);
  for (const key of keys) expect(await fixture.replyCount({ dedupe_key: key })).toBe(1);
}

/** Polls the worker's /readyz until it answers `status`, and returns that answer. */
function readyzAnswers(status: 200 | 503, worker: WorkerProcess, port: number, timeoutMs: number) {
  return until(
    `/readyz to answer ${status}`,
    async () => {
      const answer = await readyz(port);
      return answer.status === status ? answer : undefined;
    },
    timeoutMs,
    worker.output,
  );
}

describe('a worker across Redis restarts', () => {
  it.each([
    ['SIGKILLed', () => redis.kill('SIGKILL')],
    ['shut down gracefully', () => redis.shutdown()],
  ])('consumes again within 30 s after Redis is %s and restarted', async (_how, stop) => {
    const worker = fixture.spawnWorker({
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      TICKETFLOW_WATCHDOG_SECONDS: '4',
    });
    const port = await portOf(worker);
    const ticketId = await fixture.newTicket();
    const before = await enqueue(ticketId);
    await until(
      'the first reply',
      async () => (await fixture.replyCount({ dedupe_key: before })) === 1,
      15_000,
      worker.output,
    );
    expect((await readyz(port)).body).toMatchObject({ checks: { workers: { replies: 'ok' } } });

    await stop();
    await redis.start();
    const restarted = Date.now();
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await enqueue(ticketId));
    await expectStoredOnceWithin30s(ticketId, keys, restarted, worker);
    const ready = await readyzAnswers(200, worker, port, 15_000);
    expect(ready.body).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok', workers: { replies: 'ok', notifications: 'ok', maintenance: 'ok' } },
    });
  });
});

describe('a worker whose connection is wedged after a Redis restart', () => {
  // BullMQ 6 recovers from a restart by itself (above), so the consumption watchdog's heal
  // never runs there. Here the worker reaches Redis through a proxy that, once the restart is
  // over, silently swallows every byte of the worker's connections (what a NAT or a failover
  // that lost the flow does): commands never return and nothing closes. Only the connection
  // the watchdog and /readyz read through (`ticketflow-producer`) is spared.
  it('says so on /readyz, re-creates its connections and consumes again', async () => {
    const proxy = await startTcpProxy(redis.port);
    try {
      const worker = fixture.spawnWorker({
        REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
        LOG_LEVEL: 'info',
        TICKETFLOW_WATCHDOG_SECONDS: '4',
      });
      const port = await portOf(worker);
      const ticketId = await fixture.newTicket();
      await redis.kill('SIGKILL');
      await redis.start();
      const before = await enqueue(ticketId);
      await until(
        'a reply stored after the restart',
        async () => (await fixture.replyCount({ dedupe_key: before })) === 1,
        30_000,
        worker.output,
      );

      expect(proxy.wedge('ticketflow-producer')).toBeGreaterThan(0);
      const wedged = Date.now();
      const keys = [];
      for (let i = 0; i < 5; i++) keys.push(await enqueue(ticketId));
      const stuck = await readyzAnswers(503, worker, port, 30_000);
      expect(stuck.body).toMatchObject({ status: 'not ready', checks: { redis: 'ok' } });
      const { workers } = stuck.body.checks as { workers: Record<string, string> };
      expect(workers.replies).toMatch(/^stuck: 5 jobs waited \d+ s while it took none/);
      await expectStoredOnceWithin30s(ticketId, keys, wedged, worker);
      await readyzAnswers(200, worker, port, 15_000);
      expect(worker.output()).toContain('worker stuck; replacing it');
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
