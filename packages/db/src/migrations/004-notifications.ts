import type { Knex } from 'knex';

/**
 * Notifications (ARCHITECTURE.md guarantee 4): webhook endpoints, the outbox the reply
 * transaction writes one row into per notification, every webhook attempt, and the public
 * reason code of each dead letter.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.increments('id');
    t.text('url').notNullable();
    // Standard Webhooks `whsec_…` secret; signatures are keyed with its base64 part.
    t.text('secret').notNullable();
    t.specificType('events', 'text[]').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('disabled_reason');
    // Set by the first failed attempt, cleared by a delivery: "failing every attempt since".
    t.timestamp('failing_since', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('outbox', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // Null for events that belong to no reply (`webhook.test`).
    t.integer('reply_id').references('ticket_replies.id').onDelete('CASCADE').index();
    t.integer('ticket_id').references('tickets.id').onDelete('CASCADE');
    t.enum('channel', ['email', 'webhook'], {
      useNative: true,
      enumName: 'outbox_channel',
    }).notNullable();
    t.text('event').notNullable();
    /** Email: the address. Webhook: null (the endpoint). */
    t.text('recipient');
    t.integer('endpoint_id').references('webhook_endpoints.id').onDelete('CASCADE');
    /** The ticket's status before this reply, for the webhook's `status.old`. */
    t.text('status_before');
    /** The status this reply set, for the webhook's `status.new`. */
    t.text('status_after');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    /** When its notification job was enqueued; the sweeper enqueues rows left without. */
    t.timestamp('dispatched_at', { useTz: true });
    /** Recorded once, under this row: a second job for it sends nothing. */
    t.timestamp('delivered_at', { useTz: true });
    /** Final failure: the row's job was dead-lettered. */
    t.timestamp('failed_at', { useTz: true });
    /** SMTP response, `.eml` path or the last error. */
    t.text('detail');
  });
  await knex.raw(
    'CREATE INDEX outbox_undispatched ON outbox (created_at) WHERE dispatched_at IS NULL',
  );
  // Threading: the previous email notification of a ticket.
  await knex.raw(
    "CREATE INDEX outbox_ticket_emails ON outbox (ticket_id, created_at) WHERE channel = 'email'",
  );
  await knex.schema.createTable('webhook_attempts', (t) => {
    t.bigIncrements('id');
    t.uuid('outbox_id').notNullable().references('outbox.id').onDelete('CASCADE');
    t.integer('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE');
    t.text('webhook_id').notNullable();
    t.timestamp('attempted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('http_status');
    t.integer('duration_ms').notNullable();
    t.text('error');
    t.index(['endpoint_id', 'attempted_at']);
  });
  await knex.schema.alterTable('dead_letters', (t) => {
    // The public reason code (contract's dead reasons); `error` keeps the raw detail for ops.
    t.text('reason');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('dead_letters', (t) => {
    t.dropColumn('reason');
  });
  await knex.schema.dropTableIfExists('webhook_attempts');
  await knex.schema.dropTableIfExists('outbox');
  await knex.schema.dropTableIfExists('webhook_endpoints');
  await knex.raw('DROP TYPE IF EXISTS outbox_channel');
}
