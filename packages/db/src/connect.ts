import knex, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.ts';

export type Db = Knex;

/** Opens a pooled PostgreSQL connection. Nothing connects until the first query. */
export function createDb(databaseUrl: string, poolMax = 10): Db {
  return knex({
    client: 'pg',
    connection: { connectionString: databaseUrl, application_name: 'ticketflow' },
    pool: { min: 0, max: poolMax },
    // Fail fast when PostgreSQL is down, so the ingress can answer 503 instead of hanging.
    acquireConnectionTimeout: 5000,
  });
}

/** Applies pending migrations; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown, Array<string | { file: string }>];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}
