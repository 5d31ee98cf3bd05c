import type { Config } from '@ticketflow/config';
import {
  REPLY_CREATED_EVENT,
  addWebhookEndpoint,
  findWebhookEndpoint,
  listWebhookAttempts,
  listWebhookEndpoints,
  removeWebhookEndpoint,
  setWebhookEndpointEnabled,
} from '@ticketflow/db';
import { isWebhookSecret, newWebhookSecret } from '@ticketflow/worker';
import { CliFailure } from '../runtime.ts';
import { formatTime, printListing } from './print-listing.ts';
import { parseId, parseLimit, parseNameList } from './parse-arguments.ts';
import { UsageError } from './usage-error.ts';
import { checkEndpointUrl } from './webhook-target.ts';
import { withDb } from './with-db.ts';

/** The events an endpoint can subscribe to (API.md §10). */
export const WEBHOOK_EVENTS: readonly string[] = [REPLY_CREATED_EVENT];
/** Most attempts `webhooks attempts` prints at once. */
const MAX_ATTEMPTS_LISTED = 1000;

export interface AddWebhookOptions {
  events: string;
  secret?: string;
  json: boolean;
}

/**
 * Adds an endpoint and prints its id, and the secret when one was generated: the secret is
 * stored for signing and never printed again (`list` leaves it out).
 */
export async function addWebhook(
  config: Config,
  url: string,
  options: AddWebhookOptions,
): Promise<void> {
  const events = parseNameList(options.events, WEBHOOK_EVENTS, '--events');
  if (options.secret !== undefined && !isWebhookSecret(options.secret)) {
    throw new UsageError(
      '--secret must be whsec_ followed by base64 of 16 to 64 bytes; leave it out to have one generated',
    );
  }
  const checked = checkEndpointUrl(url, config.webhooks.allowPrivate);
  if (!checked.ok) throw new CliFailure(checked.reason);
  const generated = options.secret === undefined ? newWebhookSecret() : undefined;
  const secret = options.secret ?? generated!;
  const id = await withDb(config, (db) =>
    addWebhookEndpoint(db, { url: checked.url, secret, events }),
  );
  if (options.json) {
    process.stdout.write(JSON.stringify(generated ? { id, secret: generated } : { id }) + '\n');
  } else if (generated) {
    process.stdout.write(
      `id ${id}\nsecret ${generated}\nStore the secret now: receivers verify signatures with it, and it is not shown again.\n`,
    );
  } else {
    process.stdout.write(`id ${id}\n`);
  }
}

/** Prints every endpoint with its events and state; secrets are never printed. */
export async function listWebhooks(config: Config, options: { json: boolean }): Promise<void> {
  printListing(await withDb(config, listWebhookEndpoints), {
    json: options.json,
    key: 'endpoints',
    none: 'no webhook endpoints',
    header: ['ID', 'URL', 'EVENTS', 'STATE', 'FAILING SINCE'],
    cells: (e) => [
      String(e.id),
      e.url,
      e.events.join(','),
      e.enabled ? 'enabled' : `disabled (${e.disabledReason ?? 'no reason recorded'})`,
      formatTime(e.failingSince),
    ],
  });
}

/** Deletes an endpoint; deliveries still pending for it are dropped with it. */
export async function removeWebhook(config: Config, idText: string): Promise<void> {
  const id = parseEndpointId(idText);
  if (!(await withDb(config, (db) => removeWebhookEndpoint(db, id)))) throw noEndpoint(id);
  process.stdout.write(`removed webhook endpoint ${id}\n`);
}

/**
 * Enables or disables an endpoint. Enabling also clears its failure record, so the
 * auto-disable clock starts afresh.
 */
export async function setWebhookEnabled(
  config: Config,
  idText: string,
  enabled: boolean,
): Promise<void> {
  const id = parseEndpointId(idText);
  const found = await withDb(config, (db) =>
    setWebhookEndpointEnabled(db, id, enabled, enabled ? null : 'disabled by an operator'),
  );
  if (!found) throw noEndpoint(id);
  process.stdout.write(`${enabled ? 'enabled' : 'disabled'} webhook endpoint ${id}\n`);
}

/** Prints an endpoint's most recent delivery attempts, newest first. */
export async function webhookAttempts(
  config: Config,
  idText: string,
  options: { json: boolean; limit: string },
): Promise<void> {
  const id = parseEndpointId(idText);
  const limit = parseLimit(options.limit, MAX_ATTEMPTS_LISTED);
  const attempts = await withDb(config, async (db) => {
    if (!(await findWebhookEndpoint(db, id))) throw noEndpoint(id);
    return listWebhookAttempts(db, id, limit);
  });
  printListing(attempts, {
    json: options.json,
    key: 'attempts',
    none: `no attempts yet for webhook endpoint ${id}`,
    header: ['TIME', 'WEBHOOK-ID', 'STATUS', 'MS', 'ERROR'],
    cells: (a) => [
      formatTime(a.attemptedAt),
      a.webhookId,
      a.httpStatus === null ? '-' : String(a.httpStatus),
      String(a.durationMs),
      a.error ?? '-',
    ],
  });
}

/** The `<id>` argument of the `webhooks` subcommands. */
export function parseEndpointId(text: string): number {
  return parseId(text, 'the webhook endpoint id');
}

/** The failed check of every subcommand given an id no endpoint has. */
export function noEndpoint(id: number): CliFailure {
  return new CliFailure(`no webhook endpoint ${id}`);
}
