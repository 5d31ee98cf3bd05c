import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { createDb, migrateLatest } from '@ticketflow/db';
import { adminDatabaseUrl, databaseUrl } from './database-urls.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Migrates one template database per test run; each test file clones it (CREATE DATABASE …
 * TEMPLATE), which is far quicker than migrating every file's database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `tf_template_${randomBytes(4).toString('hex')}`;
  const admin = createDb(adminDatabaseUrl(), 1);
  await admin.raw(`CREATE DATABASE ${name}`);
  const template = createDb(databaseUrl(name), 1);
  try {
    await migrateLatest(template);
  } finally {
    // A template may have no open connections while it is being cloned.
    await template.destroy();
  }
  project.provide('templateDatabase', name);
  return async () => {
    await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.destroy();
  };
}
