import type { Knex } from 'knex';
import * as helpdesk from './001-helpdesk.ts';
import * as customFieldValues from './002-custom-field-values.ts';
import * as attachments from './003-attachments.ts';
import * as notifications from './004-notifications.ts';
import * as idempotencyText from './005-idempotency-text.ts';
import * as inboundEmails from './006-inbound-emails.ts';
import * as requestId from './007-request-id.ts';
import * as outboxEmailOrder from './008-outbox-email-order.ts';
import * as inboundEmailsLastSeen from './009-inbound-emails-last-seen.ts';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. Names are permanent: knex records them in knex_migrations. */
const MIGRATIONS: ReadonlyArray<[string, Migration]> = [
  ['001-helpdesk', helpdesk],
  ['002-custom-field-values', customFieldValues],
  ['003-attachments', attachments],
  ['004-notifications', notifications],
  ['005-idempotency-text', idempotencyText],
  ['006-inbound-emails', inboundEmails],
  ['007-request-id', requestId],
  ['008-outbox-email-order', outboxEmailOrder],
  ['009-inbound-emails-last-seen', inboundEmailsLastSeen],
];

/** Migrations compiled into the program, so `ticketflow migrate` needs no knexfile or loader. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(MIGRATIONS.map(([name]) => name)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return Promise.resolve(found[1]);
  },
};
