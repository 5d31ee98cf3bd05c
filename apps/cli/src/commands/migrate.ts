import type { Config } from '@ticketflow/config';
import { createDb, migrateLatest } from '@ticketflow/db';

/** Applies pending migrations and prints what it applied. */
export async function migrate(config: Config): Promise<void> {
  const db = createDb(config.databaseUrl, 1);
  try {
    const applied = await migrateLatest(db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is current\n');
  } finally {
    await db.destroy();
  }
}
