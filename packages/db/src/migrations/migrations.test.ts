import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDatabaseUrl, databaseUrl } from '@ticketflow/testing';
import { createDb, migrateLatest, pendingMigrations, type Db } from '../connect.ts';
import { migrationSource } from './index.ts';

// An empty database of its own, not a template clone: these tests start before any migration.
const name = `tf_test_migrations_${randomBytes(6).toString('hex')}`;
let admin: Db;
let db: Db;

beforeAll(async () => {
  admin = createDb(adminDatabaseUrl(), 1);
  await admin.raw(`CREATE DATABASE ${name}`);
  db = createDb(databaseUrl(name), 1);
});
afterAll(async () => {
  await db?.destroy();
  await admin?.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin?.destroy();
});

/** Tables and enum types the application owns (knex's own bookkeeping tables aside). */
async function schemaObjects(): Promise<{ tables: string[]; types: string[] }> {
  const tables = await db('information_schema.tables')
    .where({ table_schema: 'public' })
    .whereNotIn('table_name', ['knex_migrations', 'knex_migrations_lock'])
    .orderBy('table_name')
    .pluck<string[]>('table_name');
  const types = await db('pg_type as t')
    .join('pg_namespace as n', 'n.oid', 't.typnamespace')
    .where({ 'n.nspname': 'public', 't.typtype': 'e' })
    .orderBy('t.typname')
    .pluck<string[]>('t.typname');
  return { tables, types };
}

/** Every migration the program carries, in order. */
const ALL = () => migrationSource.getMigrations([]);

describe('migrations', () => {
  it('reports every migration pending on an empty database', async () => {
    expect(await pendingMigrations(db)).toEqual(await ALL());
  });

  it('applies every migration to an empty database and then has none pending', async () => {
    expect(await migrateLatest(db)).toEqual(await ALL());
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await migrateLatest(db)).toEqual([]);
    expect(await schemaObjects()).toEqual({
      tables: [
        'attachment_blobs',
        'attachment_chunks',
        'clients',
        'contacts',
        'custom_field_values',
        'custom_fields',
        'dead_letters',
        'departments',
        'idempotency_keys',
        'inbound_emails',
        'outbox',
        'reply_attachments',
        'ticket_replies',
        'ticket_statuses',
        'tickets',
        'webhook_attempts',
        'webhook_endpoints',
      ],
      types: [
        'custom_field_type',
        'inbound_email_outcome',
        'outbox_channel',
        'reply_editor',
        'reply_source',
      ],
    });
  });

  it('creates the six WHMCS ticket statuses in their order, four of them core', async () => {
    const statuses = await db('ticket_statuses').orderBy('sort').select('title', 'is_core');
    expect(statuses).toEqual([
      { title: 'Open', is_core: true },
      { title: 'Answered', is_core: true },
      { title: 'Customer-Reply', is_core: true },
      { title: 'On Hold', is_core: false },
      { title: 'In Progress', is_core: false },
      { title: 'Closed', is_core: true },
    ]);
  });

  it('rolls everything back, tables and enum types, and migrates again afterwards', async () => {
    await db.migrate.rollback({ migrationSource }, true);
    expect(await schemaObjects()).toEqual({ tables: [], types: [] });
    expect(await pendingMigrations(db)).toEqual(await ALL());
    expect(await migrateLatest(db)).toEqual(await ALL());
    expect(await pendingMigrations(db)).toEqual([]);
    expect(await db('ticket_statuses').count<{ count: string }[]>('* as count')).toEqual([
      { count: '6' },
    ]);
  });
});
