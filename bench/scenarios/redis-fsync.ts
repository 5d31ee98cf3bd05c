import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@ticketflow/testing/peers';
import { deleteKeys } from '@ticketflow/testing/redis';
import { CPU_SPLIT_LEGEND, cpuSplitNote, redisPid, startCpuMeter } from '../cpu.ts';
import { measureLoad, type LoadFigures } from '../load.ts';
import { REPLY_PATH, urlencodedPayload } from '../payloads.ts';
import type { Child } from '../processes.ts';
import { inRoundOrder, ratioRow, type Row, type Scenario } from '../rounds.ts';

type Key = 'always' | 'everysec' | 'none';

/** How each side's `redis-server` persists what the ingress enqueues. */
const PERSISTENCE: Record<Key, string> = {
  always: 'AOF, appendfsync always',
  everysec: 'AOF, appendfsync everysec',
  none: 'no persistence',
};

/** A side's own Redis: the server and the orchestrator's connection to it (its keys, its pid). */
interface OwnRedis {
  server: RedisServer;
  client: Redis;
}

interface Side {
  key: Key;
  redis: OwnRedis;
  redisPid: number;
  prefix: string;
  ingress: Child;
}

/**
 * What durable enqueues cost (issue 13): `appendfsync always` fsyncs the append-only file before
 * Redis answers, so an accepted reply survives a Redis crash; `everysec` may lose the last
 * second. Each side is its own `redis-server` child (startRedisServer, never the shared one)
 * with its own `serve --ingress`, under the urlencoded load of `ingress-urlencoded`; Ticketflow
 * with AOF is the "Ticketflow" column, the same without persistence the baseline. Automatic
 * AOF rewrites are off, so every run measures the fsyncs and not, now and then, a background
 * rewrite's fork.
 */
export const redisFsyncScenario: Scenario = {
  id: 'redis-fsync',
  async run(ctx) {
    const { stack } = ctx;
    const own: OwnRedis[] = [];
    const sides: Side[] = [];
    // A bench stopped by a signal exits without this scenario's finally: no server outlives it.
    const killAll = () => own.forEach((r) => void r.server.kill());
    process.once('exit', killAll);
    try {
      for (const key of ['always', 'everysec', 'none'] as const) {
        const server = await startRedisServer({ aof: key !== 'none' });
        const redis = { server, client: new Redis(server.url, { maxRetriesPerRequest: null }) };
        own.push(redis);
        if (key === 'everysec') await redis.client.config('SET', 'appendfsync', 'everysec');
        if (key !== 'none') await redis.client.config('SET', 'auto-aof-rewrite-percentage', '0');
        const prefix = stack.prefix(`fsync-${key}`);
        const ingress = await ctx.start(
          `fsync-${key}-ingress`,
          { kind: 'ticketflow', mode: 'ingress' },
          prefix,
          { REDIS_URL: server.url },
        );
        sides.push({ key, redis, redisPid: await redisPid(redis.client), prefix, ingress });
      }

      const payload = urlencodedPayload(stack.seed.ticketId);
      const figures = new Map<Key, LoadFigures[]>(sides.map((s) => [s.key, []]));
      for (let round = 0; round < ctx.rounds; round++) {
        for (const side of inRoundOrder(round, sides)) {
          const target = { url: side.ingress.url + REPLY_PATH, token: stack.token, payload };
          const label = `redis-fsync ${side.key} round ${round + 1}`;
          const meter = () => startCpuMeter([side.ingress.pid], side.redisPid);
          figures.get(side.key)!.push(await measureLoad(label, target, meter));
          // Every run starts on an empty queue, as in the ingress scenarios.
          await deleteKeys(side.redis.client, `${side.prefix}:*`);
        }
      }

      const none = figures.get('none')!;
      const note = (key: Key) =>
        `CPU per answer (${CPU_SPLIT_LEGEND}): ${PERSISTENCE[key]} ` +
        `${cpuSplitNote(figures.get(key)!.map((f) => f.cpu!))}; ${PERSISTENCE.none} ` +
        `${cpuSplitNote(none.map((f) => f.cpu!))}`;
      const rows: Row[] = [];
      for (const key of ['always', 'everysec'] as const) {
        const withAof = figures.get(key)!;
        const common = {
          scenario: 'redis-fsync',
          baselineName: `the same, Redis with ${PERSISTENCE.none}`,
        };
        const title = `ingress urlencoded, Redis ${PERSISTENCE[key]}`;
        rows.push(
          ratioRow(
            { ...common, metric: `${title}: req/s`, unit: 'req/s', note: note(key) },
            withAof.map((f) => f.rps),
            none.map((f) => f.rps),
          ),
          ratioRow(
            { ...common, metric: `${title}: p99 latency`, unit: 'ms' },
            withAof.map((f) => f.p99Ms),
            none.map((f) => f.p99Ms),
          ),
        );
      }
      return rows;
    } finally {
      // The ingresses first: one whose Redis is gone would wait out its shutdown on it.
      await Promise.all(sides.map((s) => s.ingress.stop()));
      process.removeListener('exit', killAll);
      for (const { server, client } of own) {
        client.disconnect();
        await server.close();
      }
    }
  },
};
