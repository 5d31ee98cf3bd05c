import type { Config } from '@ticketflow/config';
import { createDb, ensureDatabase, migrateLatest } from '@ticketflow/db';

/** Creates the database if needed, applies pending migrations and prints what it did. */
export async function migrate(config: Config): Promise<void> {
  if (await ensureDatabase(config.databaseUrl)) process.stdout.write('created the database\n');
  const db = createDb(config.databaseUrl, 1);
  try {
    const applied = await migrateLatest(db);
    process.stdout.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'schema is current\n',
    );
  } finally {
    await db.destroy();
  }
}
