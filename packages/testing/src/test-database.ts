import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDb, type Db } from '@ticketflow/db';
import { adminDatabaseUrl, databaseUrl } from './database-urls.ts';

export interface TestDatabase {
  name: string;
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database cloned from the run's template. Call drop() in afterAll. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tf_test_${randomBytes(6).toString('hex')}`;
  const admin = createDb(adminDatabaseUrl(), 1);
  try {
    await cloneTemplate(admin, name, inject('templateDatabase'));
  } finally {
    await admin.destroy();
  }
  const url = databaseUrl(name);
  const db = createDb(url, 5);
  return {
    name,
    url,
    db,
    async drop() {
      await db.destroy();
      const a = createDb(adminDatabaseUrl(), 1);
      await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.destroy();
    },
  };
}

/**
 * A test file's own database: created before its tests (beforeAll) and dropped after them
 * (afterAll). Read `db` and `url` inside tests and hooks; a hook the file registers after this
 * call runs after the database exists.
 */
export function useTestDatabase(): Pick<TestDatabase, 'db' | 'url'> {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const current = () => {
    if (!database) throw new Error('the test database is created in beforeAll: read it in a test');
    return database;
  };
  return {
    get db() {
      return current().db;
    },
    get url() {
      return current().url;
    },
  };
}

async function cloneTemplate(admin: Db, name: string, template: string): Promise<void> {
  // Two files cloning at the same instant can see "source database is being accessed by
  // other users" (55006), because each clone briefly holds the template; retry a few times.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
}
