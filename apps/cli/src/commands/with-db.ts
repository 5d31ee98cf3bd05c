import type { Config } from '@ticketflow/config';
import { createDb, type Db } from '@ticketflow/db';
import { CliFailure } from '../runtime.ts';

/** PostgreSQL's undefined_table: the database has not been migrated to this version. */
const UNDEFINED_TABLE = '42P01';

/**
 * Runs `work` on a one-connection pool and closes it. A missing table means the schema is
 * behind this release, and the fix is `ticketflow migrate`, not a stack trace.
 */
export async function withDb<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  const db = createDb(config.databaseUrl, 1);
  try {
    return await work(db);
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) {
      throw new CliFailure('the database schema is behind this release; run `ticketflow migrate`');
    }
    throw error;
  } finally {
    await db.destroy();
  }
}
