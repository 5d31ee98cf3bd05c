import type { Knex } from 'knex';

/**
 * An idempotent replay must return the first answer byte for byte; jsonb reorders object keys
 * (it stores them sorted by length, then bytes), so the answer is kept as the text it was.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE idempotency_keys ALTER COLUMN response_body TYPE text USING response_body::text',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'ALTER TABLE idempotency_keys ALTER COLUMN response_body TYPE jsonb USING response_body::jsonb',
  );
}
