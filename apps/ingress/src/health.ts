import type { Request, Response } from 'express';
import type { RedisClient } from '@ticketflow/queue';
import { pendingMigrations, type Db } from '@ticketflow/db';
import { writeJson } from './write-json.ts';

export interface ReadinessDeps {
  db: Db;
  redis: RedisClient;
  /** A worker process's queues: `ok`, or why its worker is not consuming. */
  consumers?: () => Record<string, string>;
}

/** `/healthz`: the process is up and its event loop answers. */
export function liveness(_req: Request, res: Response): void {
  writeJson(res, 200, { status: 'ok' });
}

/**
 * `/readyz`: ready when Redis answers, PostgreSQL answers and its schema is current, and (in a
 * worker process) every queue's worker consumes; each check is reported so an operator sees
 * which one failed.
 */
export function createReadiness(deps: ReadinessDeps) {
  return async function readiness(_req: Request, res: Response): Promise<void> {
    const [redis, database] = await Promise.all([
      deps.redis.ping().then(
        () => 'ok',
        (e: Error) => `unreachable: ${e.message}`,
      ),
      pendingMigrations(deps.db).then(
        (pending) =>
          pending.length === 0
            ? 'ok'
            : `migrations pending: ${pending.join(', ')}; run ticketflow migrate`,
        (e: Error) => `unreachable: ${e.message}`,
      ),
    ]);
    const workers = deps.consumers?.();
    const consuming = Object.values(workers ?? {}).every((state) => state === 'ok');
    const ready = redis === 'ok' && database === 'ok' && consuming;
    writeJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not ready',
      checks: { redis, database, ...(workers ? { workers } : {}) },
    });
  };
}
