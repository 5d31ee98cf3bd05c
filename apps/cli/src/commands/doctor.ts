import type { Redis } from 'ioredis';
import type { Config } from '@ticketflow/config';
import { createDb, pendingMigrations } from '@ticketflow/db';
import {
  catalogQueues,
  createRedis,
  jobCatalog,
  masterNodes,
  openQueue,
  waitForRedis,
  type RedisClient,
} from '@ticketflow/queue';
import { verifySmtp } from '@ticketflow/worker';
import { CliFailure } from '../runtime.ts';
import {
  doctorChecks,
  formatCheck,
  parseRedisInfo,
  withoutCredentials,
  type DoctorFacts,
  type QueueFacts,
  type RedisFacts,
  type RedisServerFacts,
} from './doctor-checks.ts';
import { redisLocation } from './redis-location.ts';

/** How long doctor waits for Redis to answer before calling it unreachable. */
const REDIS_WAIT_MS = 5000;

/**
 * `ticketflow doctor [--json]`: reads Redis, PostgreSQL, the queues and SMTP, then prints one
 * line per check (API.md §10) and exits 1 when any failed. Every read is bounded, so a service
 * that is down shows as a failed line rather than a hang.
 */
export async function doctor(config: Config, options: { json: boolean }): Promise<void> {
  const [redisSide, postgres, smtp] = await Promise.all([
    readRedisSide(config),
    readPostgres(config),
    readSmtp(config),
  ]);
  const checks = doctorChecks({
    now: Date.now(),
    redisLocation: redisLocation(config),
    ...redisSide,
    postgres,
    smtp,
    production: config.production,
    devJwtSecret: config.jwt.usesDevSecret,
    devMailSecret: config.mail.usesDevSecret,
    bridge: {
      staffAddresses: config.bridge.staff.length,
      authservId: config.bridge.authservId,
    },
  });
  const ok = checks.every((c) => c.ok);
  process.stdout.write(
    options.json
      ? `${JSON.stringify({ ok, checks })}\n`
      : checks.map((c) => `${formatCheck(c)}\n`).join(''),
  );
  const failed = checks.filter((c) => !c.ok).length;
  if (failed > 0) throw new CliFailure(`doctor: ${failed} of ${checks.length} checks failed`);
}

async function readRedisSide(config: Config): Promise<Pick<DoctorFacts, 'redis' | 'queues'>> {
  const redis = createRedis(config.redisUrl, 'producer', config.redisClusterNodes);
  try {
    if (!(await waitForRedis(redis, REDIS_WAIT_MS))) {
      const error = { error: `no answer within ${REDIS_WAIT_MS / 1000} s` };
      return { redis: error, queues: error };
    }
    const [servers, queues] = await Promise.all([
      readServers(redis),
      readQueues(config, redis).catch((e: Error) => ({ error: e.message })),
    ]);
    return { redis: servers, queues };
  } catch (error) {
    return { redis: { error: (error as Error).message }, queues: { error: 'Redis failed' } };
  } finally {
    redis.disconnect();
  }
}

/**
 * INFO and CONFIG GET of each server: the one Redis, or every master of a cluster, since each
 * master persists and evicts by its own settings (a replica's settings matter once it is
 * promoted; run doctor again after a failover).
 */
function readServers(redis: RedisClient): Promise<RedisServerFacts[]> {
  return Promise.all(
    masterNodes(redis).map(async (server) => ({
      address: `${server.options.host}:${server.options.port}`,
      facts: await readRedis(server).catch((e: Error) => ({ error: e.message })),
    })),
  );
}

async function readRedis(redis: Redis): Promise<RedisFacts> {
  const info = parseRedisInfo(await redis.info());
  let config: RedisFacts['config'];
  try {
    config = {
      save: await configGet(redis, 'save'),
      appendfsync: await configGet(redis, 'appendfsync'),
    };
  } catch (error) {
    config = { error: (error as Error).message };
  }
  return {
    version: info.get('redis_version') ?? 'unknown',
    maxmemoryPolicy: info.get('maxmemory_policy') ?? 'unknown',
    aofEnabled: info.get('aof_enabled') === '1',
    aofLastWrite: info.get('aof_last_write_status') ?? 'ok',
    rdbLastSave: info.get('rdb_last_bgsave_status') ?? 'ok',
    config,
  };
}

async function configGet(redis: Redis, parameter: string): Promise<string> {
  const reply = (await redis.config('GET', parameter)) as string[];
  return reply[1] ?? '';
}

async function readQueues(config: Config, redis: RedisClient): Promise<QueueFacts[]> {
  return Promise.all(
    catalogQueues(jobCatalog(config)).map(async (definition) => {
      const queue = openQueue(definition, redis, config.queuePrefix);
      try {
        const [workers, counts, [oldest]] = await Promise.all([
          queue.getWorkersCount().catch((e: Error) => ({ error: e.message })),
          queue.getJobCounts('waiting', 'prioritized'),
          // Ascending: the wait list's oldest end.
          queue.getJobs(['waiting'], 0, 0, true),
        ]);
        return {
          name: definition.name,
          workers,
          backlog: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          oldestWaitingAt: oldest?.timestamp,
        };
      } finally {
        await queue.close();
      }
    }),
  );
}

async function readPostgres(config: Config): Promise<DoctorFacts['postgres']> {
  const db = createDb(config.databaseUrl, 1);
  try {
    const result = await db.raw<{ rows: Array<{ server_version: string; num: string }> }>(
      "SELECT current_setting('server_version') AS server_version, current_setting('server_version_num') AS num",
    );
    const row = result.rows[0];
    return {
      version: row?.server_version ?? 'unknown',
      versionNum: Number(row?.num ?? 0),
      pending: await pendingMigrations(db),
    };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await db.destroy();
  }
}

async function readSmtp(config: Config): Promise<DoctorFacts['smtp']> {
  const url = config.mail.smtpUrl;
  if (!url) return undefined;
  try {
    await verifySmtp(url);
    return { url: withoutCredentials(url), error: undefined };
  } catch (error) {
    return { url: withoutCredentials(url), error: (error as Error).message };
  }
}
