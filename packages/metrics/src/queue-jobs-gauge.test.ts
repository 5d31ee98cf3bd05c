import { Registry } from 'prom-client';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRedis, isRedisReady, jobCatalog, openQueue } from '@ticketflow/queue';
import { deletePrefix, redisUrl, uniquePrefix } from '@ticketflow/testing';
import { startRedisServer } from '@ticketflow/testing/peers';
import { registerQueueJobsGauge, type CountedQueue } from './queue-jobs-gauge.ts';

const prefix = uniquePrefix();
const redis = createRedis(redisUrl(), 'producer');
const { replies } = jobCatalog({
  worker: { attempts: 1, backoffMs: 10 },
  mail: { attempts: 1, backoffMs: 10 },
  webhooks: { scheduleMs: [] },
});
afterAll(async () => {
  redis.disconnect();
  await deletePrefix(prefix);
});

/** The replies queue of this file's prefix, counting how often its job counts are read. */
function countedReplies(): { queue: CountedQueue; reads: () => number; add: () => Promise<void> } {
  const queue = openQueue(replies, redis, prefix);
  onTestFinished(() => queue.close());
  let reads = 0;
  return {
    queue: {
      name: queue.name,
      getJobCounts: (...states) => {
        reads += 1;
        return queue.getJobCounts(...(states as Parameters<typeof queue.getJobCounts>));
      },
    },
    reads: () => reads,
    add: async () => {
      await queue.add('reply', {});
    },
  };
}

const waiting = (text: string) =>
  /ticketflow_queue_jobs\{queue="replies",state="waiting"\} (\d+)/.exec(text)?.[1];

describe('ticketflow_queue_jobs', () => {
  it('reads Redis once per cache period, however many scrapes come', async () => {
    const { queue, reads, add } = countedReplies();
    let now = 0;
    const registry = new Registry();
    registerQueueJobsGauge(registry, {
      queues: [queue],
      cacheMs: 5000,
      deadlineMs: 2000,
      isReady: () => true,
      now: () => now,
    });

    const [first, second] = await Promise.all([registry.metrics(), registry.metrics()]);
    expect(waiting(first)).toBe('0');
    expect(waiting(second)).toBe('0');
    expect(reads()).toBe(1);

    await add();
    now = 4999;
    expect(waiting(await registry.metrics())).toBe('0');
    expect(reads()).toBe(1);

    now = 5000;
    expect(waiting(await registry.metrics())).toBe('1');
    expect(reads()).toBe(2);
  });

  it('leaves the queue series out at once while the connection is down, and the scrape still succeeds', async () => {
    const down = createRedis('redis://127.0.0.1:1', 'producer');
    onTestFinished(() => down.disconnect());
    const queue = openQueue(replies, down, prefix);
    queue.on('error', () => undefined);
    const registry = new Registry();
    registerQueueJobsGauge(registry, {
      queues: [queue],
      cacheMs: 5000,
      deadlineMs: 60_000,
      isReady: () => isRedisReady(down),
    });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE ticketflow_queue_jobs gauge');
    expect(text).not.toMatch(/ticketflow_queue_jobs\{/);
  });

  it('gives up a read slower than its deadline (a Redis that stopped answering)', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.close());
    const connection = createRedis(server.url, 'producer');
    onTestFinished(() => connection.disconnect());
    const queue = openQueue(replies, connection, prefix);
    onTestFinished(() => queue.close());
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 });
    const registry = new Registry();
    registerQueueJobsGauge(registry, {
      queues: [queue],
      cacheMs: 5000,
      deadlineMs: 200,
      isReady: () => isRedisReady(connection),
    });
    // Every client's commands wait for 3 s: the connection is up, its answers are not.
    const admin = createRedis(server.url, 'producer');
    onTestFinished(() => admin.disconnect());
    await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const started = performance.now();
    const text = await registry.metrics();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(text).not.toMatch(/ticketflow_queue_jobs\{/);
  });
});
