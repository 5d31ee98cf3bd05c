import type { Knex } from 'knex';

/**
 * Attachments: blobs content-addressed by SHA-256 (identical bytes stored once), their bytes in
 * chunks so uploads stream in and out without holding a whole file, and each reply's list.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attachment_chunks', (t) => {
    // An upload writes its chunks under its own id before its hash is known.
    t.uuid('upload_id').notNullable();
    t.integer('seq').notNullable();
    t.binary('bytes').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['upload_id', 'seq']);
  });
  await knex.schema.createTable('attachment_blobs', (t) => {
    t.string('sha256', 64).primary();
    t.uuid('upload_id').notNullable().unique();
    t.bigInteger('size').notNullable();
    t.text('content_type').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('reply_attachments', (t) => {
    t.integer('reply_id').notNullable().references('ticket_replies.id').onDelete('CASCADE');
    t.integer('position').notNullable();
    t.text('stored_name').notNullable();
    t.text('original_name').notNullable();
    // RESTRICT: the sweeper can never delete bytes a reply still points at.
    t.string('sha256', 64).notNullable().references('attachment_blobs.sha256').onDelete('RESTRICT');
    t.primary(['reply_id', 'position']);
    t.index(['sha256']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('reply_attachments');
  await knex.schema.dropTableIfExists('attachment_blobs');
  await knex.schema.dropTableIfExists('attachment_chunks');
}
