import type { Knex } from 'knex';

/** The X-Request-Id a reply arrived with, so its notifications can log it too (issue 14). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ticket_replies', (t) => {
    t.text('request_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ticket_replies', (t) => {
    t.dropColumn('request_id');
  });
}
