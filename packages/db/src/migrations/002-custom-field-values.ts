import type { Knex } from 'knex';

/** Custom field values belong to the ticket, one per field (API.md §5), upserted by replies. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('custom_field_values', (t) => {
    t.integer('field_id').notNullable().references('custom_fields.id').onDelete('CASCADE');
    t.integer('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.text('value').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['field_id', 'ticket_id']);
    t.index(['ticket_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('custom_field_values');
}
