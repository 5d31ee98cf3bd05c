import type { Knex } from 'knex';

/** Statuses WHMCS ships: four core ones that replies set, two optional ones. */
const STATUSES = [
  { title: 'Open', is_core: true, sort: 1 },
  { title: 'Answered', is_core: true, sort: 2 },
  { title: 'Customer-Reply', is_core: true, sort: 3 },
  { title: 'On Hold', is_core: false, sort: 4 },
  { title: 'In Progress', is_core: false, sort: 5 },
  { title: 'Closed', is_core: true, sort: 6 },
];

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('departments', (t) => {
    t.increments('id');
    t.text('name').notNullable().unique();
    t.text('email').notNullable();
  });
  await knex.schema.createTable('clients', (t) => {
    t.increments('id');
    t.text('name').notNullable();
    t.text('email').notNullable().unique();
  });
  await knex.schema.createTable('contacts', (t) => {
    t.increments('id');
    t.integer('client_id').notNullable().references('clients.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('email').notNullable();
    // Target of the replies' composite foreign key: a contact always belongs to the reply's client.
    t.unique(['id', 'client_id']);
    t.unique(['client_id', 'email']);
  });
  await knex.schema.createTable('ticket_statuses', (t) => {
    t.text('title').primary();
    t.boolean('is_core').notNullable().defaultTo(false);
    t.integer('sort').notNullable().defaultTo(0);
  });
  await knex('ticket_statuses').insert(STATUSES);
  await knex.raw('CREATE UNIQUE INDEX ticket_statuses_title_ci ON ticket_statuses (lower(title))');
  await knex.schema.createTable('tickets', (t) => {
    t.increments('id');
    t.string('tid', 15).notNullable().unique();
    t.integer('department_id').notNullable().references('departments.id');
    t.integer('client_id').references('clients.id').index();
    t.integer('contact_id');
    t.text('name').notNullable().defaultTo('');
    t.text('email').notNullable().defaultTo('');
    t.text('subject').notNullable();
    t.text('message').notNullable().defaultTo('');
    t.text('status')
      .notNullable()
      .defaultTo('Open')
      .references('ticket_statuses.title')
      .onUpdate('CASCADE');
    t.text('priority').notNullable().defaultTo('Medium');
    t.timestamp('last_reply_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['contact_id', 'client_id']).references(['id', 'client_id']).inTable('contacts');
  });
  await knex.schema.createTable('ticket_replies', (t) => {
    t.increments('id');
    t.uuid('reply_uid').notNullable().unique();
    // The exactly-once guarantee: a re-delivered job hits this constraint and writes nothing.
    t.text('dedupe_key').notNullable().unique();
    t.integer('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.integer('client_id').references('clients.id');
    t.integer('contact_id');
    t.text('name').notNullable().defaultTo('');
    t.text('email').notNullable().defaultTo('');
    t.text('admin').notNullable().defaultTo('');
    t.text('message').notNullable();
    t.text('message_html').notNullable();
    t.enum('editor', ['markdown', 'plain'], {
      useNative: true,
      enumName: 'reply_editor',
    }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    t.enum('source', ['api', 'email'], { useNative: true, enumName: 'reply_source' }).notNullable();
    t.text('source_principal').notNullable();
    t.text('source_message_id');
    t.timestamp('received_at', { useTz: true }).notNullable();
    t.timestamp('persisted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.foreign(['contact_id', 'client_id']).references(['id', 'client_id']).inTable('contacts');
    t.index(['ticket_id', 'created_at']);
  });
  await knex.schema.createTable('custom_fields', (t) => {
    t.increments('id');
    t.integer('department_id').notNullable().references('departments.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.enum('type', ['text', 'link', 'password', 'dropdown', 'tickbox', 'textarea'], {
      useNative: true,
      enumName: 'custom_field_type',
    }).notNullable();
    t.specificType('options', 'text[]').notNullable().defaultTo('{}');
    t.text('regex');
    t.unique(['department_id', 'name']);
  });
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.text('principal').notNullable();
    t.text('key').notNullable();
    t.text('fingerprint').notNullable();
    t.integer('response_status');
    t.jsonb('response_body');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable().index();
    t.primary(['principal', 'key']);
  });
  await knex.schema.createTable('dead_letters', (t) => {
    t.increments('id');
    t.text('queue').notNullable();
    t.text('job_id').notNullable();
    t.text('name').notNullable();
    t.jsonb('payload').notNullable();
    t.text('error').notNullable();
    t.integer('attempts').notNullable();
    t.timestamp('failed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('replayed_at', { useTz: true });
    t.unique(['queue', 'job_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'dead_letters',
    'idempotency_keys',
    'custom_fields',
    'ticket_replies',
    'tickets',
    'ticket_statuses',
    'contacts',
    'clients',
    'departments',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.raw('DROP TYPE IF EXISTS reply_editor, reply_source, custom_field_type');
}
