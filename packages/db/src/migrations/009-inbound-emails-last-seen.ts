import type { Knex } from 'knex';

/**
 * The retention purge deletes `inbound_emails` rows by `last_seen_at` alone; the index on
 * (outcome, last_seen_at) leads with the outcome, so that range would scan the whole table.
 * (`idempotency_keys.expires_at`, the purge's other range, is indexed since 001.) A plain
 * CREATE INDEX holds the bridge's writes while it builds: on this table (one row per message
 * read) that is moments, and it keeps the migration inside its transaction.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_emails', (t) => {
    t.index(['last_seen_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('inbound_emails', (t) => {
    t.dropIndex(['last_seen_at']);
  });
}
