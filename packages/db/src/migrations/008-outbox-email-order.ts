import type { Knex } from 'knex';

/**
 * Threading reads a ticket's email notification just before a given one by (created_at, id):
 * every row of one group commit shares its created_at, so the index must hold the id too for
 * PostgreSQL to stop at the first row instead of sorting the ticket's whole history.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX outbox_ticket_email_order ON outbox (ticket_id, created_at, id) WHERE channel = 'email'",
  );
  await knex.raw('DROP INDEX outbox_ticket_emails');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    "CREATE INDEX outbox_ticket_emails ON outbox (ticket_id, created_at) WHERE channel = 'email'",
  );
  await knex.raw('DROP INDEX outbox_ticket_email_order');
}
