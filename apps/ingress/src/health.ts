import type { Request, Response } from 'express';
import type { Redis } from 'ioredis';
import { pendingMigrations, type Db } from '@ticketflow/db';
import { writeJson } from './write-json.ts';

export interface ReadinessDeps {
  db: Db;
  redis: Redis;
}

/** `/healthz`: the process is up and its event loop answers. */
export function liveness(_req: Request, res: Response): void {
  writeJson(res, 200, { status: 'ok' });
}

/**
 * `/readyz`: ready when Redis answers, PostgreSQL answers and its schema is current; each
 * check is reported so an operator sees which one failed.
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
    const ready = redis === 'ok' && database === 'ok';
    writeJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not ready',
      checks: { redis, database },
    });
  };
}
