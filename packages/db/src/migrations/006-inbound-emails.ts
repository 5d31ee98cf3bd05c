import type { Knex } from 'knex';

/**
 * What the email bridge did with each message it read: posted, dropped (an auto-reply, a
 * bounce, a loop) or refused (no ticket, a sender the ticket does not know). One row per
 * dedupe key, so a message delivered again is counted on its row, not added twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inbound_emails', (t) => {
    t.bigIncrements('id');
    // `email:<mailbox>:<Message-ID>`, or a hash of the bytes: the reply's dedupe key too.
    t.text('dedupe_key').notNullable().unique();
    t.text('mailbox').notNullable();
    t.text('message_id');
    t.enum('outcome', ['posted', 'dropped', 'refused'], {
      useNative: true,
      enumName: 'inbound_email_outcome',
    }).notNullable();
    // Dropped or refused: the bridge's reason code (`bounce`, `no_ticket`, …) and its sentence.
    t.text('reason');
    t.text('detail');
    t.text('sender');
    t.text('subject');
    t.integer('ticket_id').references('tickets.id').onDelete('SET NULL');
    // Posted: the reply the job carries (its reply_uid once the worker stores it).
    t.uuid('reply_uid');
    // Posted: the whole text before quoted history and the signature were cut from the reply.
    t.text('original_text');
    t.integer('deliveries').notNullable().defaultTo(1);
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['outcome', 'last_seen_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbound_emails');
  await knex.raw('DROP TYPE IF EXISTS inbound_email_outcome');
}
