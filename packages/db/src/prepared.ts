import type { Client } from 'pg';
import type { Db } from './connect.ts';

/** A hot-path statement: fixed SQL text, planned once per connection under its name. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/** The pool calls of knex's pg client used here (knex types `client` as any). */
interface KnexPool {
  acquireConnection(): Promise<Client>;
  releaseConnection(connection: Client): Promise<unknown>;
}

/**
 * Runs a prepared statement on a pooled connection. knex sends every query unnamed, so
 * PostgreSQL plans it on each call; for the statements every reply runs (the group commit,
 * the batched ticket lookup) that planning cost more CPU than the work, on the cores the
 * service shares with PostgreSQL.
 */
export async function queryPrepared<Row>(
  db: Db,
  statement: PreparedStatement,
  values: unknown[],
): Promise<Row[]> {
  const pool = db.client as KnexPool;
  const connection = await pool.acquireConnection();
  try {
    const result = await connection.query<Row & object>({ ...statement, values });
    return result.rows;
  } finally {
    await pool.releaseConnection(connection);
  }
}
