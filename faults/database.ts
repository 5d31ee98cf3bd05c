import { randomBytes } from 'node:crypto';
import knex from 'knex';
import {
  addWebhookEndpoint,
  migrateLatest,
  seedDemo,
  type Db,
  type DemoSeed,
} from '@ticketflow/db';

/**
 * The run's own PostgreSQL connections carry this name, so phase 5 can terminate every backend
 * of the product's processes and still read the tally afterwards.
 */
export const OBSERVER_APPLICATION = 'ticketflow-faults';

/** Where the run reaches PostgreSQL as a superuser: the same variable and default as the tests. */
export function adminDatabaseUrl(): string {
  return process.env.TICKETFLOW_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface FaultDatabase {
  name: string;
  url: string;
  /** The run's connections to it (not the product's), to seed and to count. */
  db: Db;
  /** A connection to the server's `postgres` database, for what the product must not see. */
  admin: Db;
  seed: DemoSeed;
  /** Tickets of the seeded client the load spreads its replies over. */
  ticketIds: number[];
  drop(): Promise<void>;
}

/**
 * `tf_faults_<random>`, migrated, with the demo rows, `tickets` tickets of the demo client and
 * one webhook endpoint subscribed to replies.
 */
export async function createFaultDatabase(options: {
  tickets: number;
  webhook: { url: string; secret: string };
}): Promise<FaultDatabase> {
  const name = `tf_faults_${randomBytes(5).toString('hex')}`;
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  const admin = connect(adminDatabaseUrl(), 1);
  await admin.raw('CREATE DATABASE ??', [name]);
  const db = connect(url.toString(), 4);
  const drop = async () => {
    await db.destroy();
    // FORCE: a killed or frozen product process may still hold a backend.
    await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    await admin.destroy();
  };
  try {
    await migrateLatest(db);
    const seed = await seedDemo(db);
    const rows = await db('tickets')
      .insert(
        Array.from({ length: options.tickets }, (_, i) => ({
          tid: `FAULT-${String(i + 1).padStart(6, '0')}`,
          department_id: seed.departmentId,
          client_id: seed.clientId,
          contact_id: seed.contactId,
          subject: `fault run ticket ${i + 1}`,
        })),
      )
      .returning<{ id: number }[]>('id');
    await addWebhookEndpoint(db, {
      ...options.webhook,
      events: ['ticket.reply.created'],
    });
    return {
      name,
      url: url.toString(),
      db,
      admin,
      seed,
      ticketIds: rows.map((r) => r.id),
      drop,
    };
  } catch (error) {
    await drop();
    throw error;
  }
}

function connect(connectionString: string, poolMax: number): Db {
  return knex({
    client: 'pg',
    connection: { connectionString, application_name: OBSERVER_APPLICATION },
    // A connection is kept open once made: when the server is at max_connections (other work
    // shares it, and phase 5 has every product process reconnect at once) the run must still
    // reach it to terminate backends, count and drop.
    pool: { min: 1, max: poolMax },
  });
}
