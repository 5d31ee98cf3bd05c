import knex, { type Knex } from 'knex';
import pg from 'pg';
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
  const result: unknown = await db.migrate.latest({ migrationSource });
  const [, applied] = result as [number, string[]];
  return applied;
}

/** Names of migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const result: unknown = await db.migrate.list({ migrationSource });
  const [, pending] = result as [unknown, Array<string | { file: string }>];
  return pending.map((p) => (typeof p === 'string' ? p : p.file));
}

/**
 * Creates the database named in `databaseUrl` if it does not exist yet (so `demo` and `migrate`
 * work on a fresh server). Connects to the server's `postgres` database to do it.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  // Managed servers may not let the app into `postgres`: only go there when the target is missing.
  // A bare client: knex would print its own warning for the expected "does not exist".
  const probe = new pg.Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    return false;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z_][A-Za-z0-9_$-]*$/.test(name))
    throw new Error(`unsupported database name "${name}"`);
  url.pathname = '/postgres';
  const admin = createDb(url.toString(), 1);
  try {
    const found = await admin('pg_database')
      .where({ datname: name })
      .first<{ datname: string } | undefined>('datname');
    if (found) return false;
    await admin.raw('CREATE DATABASE ??', [name]);
    return true;
  } catch (error) {
    // Created meanwhile by a concurrent `demo` or `migrate`.
    if ((error as { code?: string }).code === '42P04') return false;
    throw error;
  } finally {
    await admin.destroy();
  }
}
