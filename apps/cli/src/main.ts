import { Command, CommanderError } from 'commander';
import { bridge, bridgeIngest, type BridgeOptions } from './commands/bridge.ts';
import { demo } from './commands/demo.ts';
import { doctor } from './commands/doctor.ts';
import { listDlq, purgeDlq, showDlq } from './commands/dlq.ts';
import { replayDlq } from './commands/dlq-replay.ts';
import { migrate } from './commands/migrate.ts';
import { queues } from './commands/queues.ts';
import { reply } from './commands/reply.ts';
import { serve } from './commands/serve.ts';
import { token, type TokenOptions } from './commands/token.ts';
import { UsageError } from './commands/usage-error.ts';
import { testWebhook } from './commands/webhook-test.ts';
import {
  addWebhook,
  listWebhooks,
  removeWebhook,
  setWebhookEnabled,
  webhookAttempts,
  WEBHOOK_EVENTS,
  type AddWebhookOptions,
} from './commands/webhooks.ts';
import { loadConfig } from './runtime.ts';

/** Exit codes of API.md §10: 0 ok, 1 a check failed, 2 usage error. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const program = new Command('ticketflow')
  .description('Ticketflow: support-ticket replies, exactly once')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('serve')
  .description('run the ingress and the reply worker (both unless one is named)')
  .option('--ingress', 'run the HTTP ingress')
  .option('--worker', 'run the reply worker')
  .action(async (o: { ingress?: boolean; worker?: boolean }) => {
    const both = !o.ingress && !o.worker;
    await serve(loadConfig(), { ingress: both || !!o.ingress, worker: both || !!o.worker });
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(() => migrate(loadConfig()));

program
  .command('demo')
  .description('migrate, seed a demo ticket, print tokens and a ready curl')
  .option('--json', 'print one JSON line')
  .action((o: { json?: boolean }) => demo(loadConfig(), { json: !!o.json }));

program
  .command('token')
  .description('print a signed token')
  .requiredOption('--role <role>', 'client, staff, bridge or ops')
  .requiredOption('--sub <sub>', 'subject: who the token is for')
  .option('--clientid <id>', 'client id (client tokens)')
  .option('--admin <name>', 'staff display name')
  .option('--scope <scopes>', 'space-separated scopes, e.g. ops:write')
  .option('--ttl <duration>', 'lifetime: seconds, or 15m, 12h, 7d', '1h')
  .action((o: TokenOptions) => token(loadConfig(), o));

program
  .command('queues')
  .description('job counts per state per queue')
  .option('--json', 'print one JSON object')
  .action((o: { json?: boolean }) => queues(loadConfig(), { json: !!o.json }));

program
  .command('doctor')
  .description('check Redis, PostgreSQL, workers, SMTP and secrets; print each check with its fix')
  .option('--json', 'print one JSON object {"ok","checks":[{"name","ok","detail","fix"}]}')
  .action((o: { json?: boolean }) => doctor(loadConfig(), { json: !!o.json }));

program
  .command('reply')
  .description(
    "a reply's state and story: accepted, attempts, persisted, notifications, dead letter",
  )
  .argument('<replyid>', 'the reply id add-ticket-reply answered')
  .option('--json', 'print one JSON object')
  .action((replyid: string, o: { json?: boolean }) =>
    reply(loadConfig(), replyid, { json: !!o.json }),
  );

const webhooks = program
  .command('webhooks')
  .description('webhook endpoints: add, list, enable, disable, remove, attempts, test');

webhooks
  .command('add')
  .summary('add an endpoint and print its id (and its secret, once, when generated)')
  .description(
    'add an endpoint; a URL whose host is an IP address must be public unless TICKETFLOW_WEBHOOK_ALLOW_PRIVATE is set, and a hostname is checked at each delivery on the address it resolves to',
  )
  .argument('<url>', 'http or https URL the events are POSTed to')
  .requiredOption('--events <list>', `comma-separated events: ${WEBHOOK_EVENTS.join(', ')}`)
  .option('--secret <whsec>', 'signing secret (whsec_…); generated and printed once when left out')
  .option('--json', 'print one JSON object {"id","secret"} (secret only when generated)')
  .action((url: string, o: AddWebhookOptions) =>
    addWebhook(loadConfig(), url, { ...o, json: !!o.json }),
  );

webhooks
  .command('list')
  .description('every endpoint with its events and state (secrets are never shown)')
  .option('--json', 'print one JSON object')
  .action((o: { json?: boolean }) => listWebhooks(loadConfig(), { json: !!o.json }));

webhooks
  .command('remove')
  .description('delete an endpoint and its pending deliveries')
  .argument('<id>', 'endpoint id')
  .action((id: string) => removeWebhook(loadConfig(), id));

webhooks
  .command('enable')
  .description('enable an endpoint and clear its failure record')
  .argument('<id>', 'endpoint id')
  .action((id: string) => setWebhookEnabled(loadConfig(), id, true));

webhooks
  .command('disable')
  .description('stop delivering to an endpoint')
  .argument('<id>', 'endpoint id')
  .action((id: string) => setWebhookEnabled(loadConfig(), id, false));

webhooks
  .command('attempts')
  .description("an endpoint's recent delivery attempts, newest first")
  .argument('<id>', 'endpoint id')
  .option('--limit <n>', 'how many', '20')
  .option('--json', 'print one JSON object')
  .action((id: string, o: { limit: string; json?: boolean }) =>
    webhookAttempts(loadConfig(), id, { limit: o.limit, json: !!o.json }),
  );

webhooks
  .command('test')
  .description('send a webhook.test event to an endpoint (a running worker delivers it)')
  .argument('<id>', 'endpoint id')
  .action((id: string) => testWebhook(loadConfig(), id));

const bridgeCommand = program
  .command('bridge')
  .description('the email bridge: take mail over SMTP and/or LMTP and post it as replies')
  .option('--smtp <port>', 'take SMTP on this port')
  .option('--lmtp <port>', 'take LMTP on this port (what Postfix delivers to a mailbox with)')
  .option('--http <port>', 'serve /healthz, /readyz and /metrics (an ops token) on this port')
  .option('--host <address>', 'the address to listen on', '127.0.0.1')
  .action((o: BridgeOptions) => bridge(loadConfig(), o));

bridgeCommand
  .command('ingest')
  .description(
    'post one message read from stdin; exit 0 posted or dropped, 67 refused, 75 retry later',
  )
  .option('--mailbox <name>', 'the mailbox name in its dedupe key (TICKETFLOW_BRIDGE_MAILBOX)')
  .action((o: { mailbox?: string }) => bridgeIngest(o));

const dlq = program
  .command('dlq')
  .description('dead letters: jobs that failed for good (list, show, replay, purge)');

dlq
  .command('list')
  .description('dead letters, newest first')
  .option('--queue <name>', 'only this queue')
  .option('--json', 'print one JSON object')
  .action((o: { queue?: string; json?: boolean }) =>
    listDlq(loadConfig(), { ...o, json: !!o.json }),
  );

dlq
  .command('show')
  .description('one dead letter as JSON: the raw error, the payload with personal data redacted')
  .argument('<id>', 'dead letter id')
  .option('--full', 'show the payload unredacted')
  .action((id: string, o: { full?: boolean }) => showDlq(loadConfig(), id, { full: !!o.full }));

dlq
  .command('replay')
  .summary("put one dead letter's job, or every unreplayed one, back to work")
  .description(
    "put a dead letter's job back to work (BullMQ's failed job is retried, or the job added again); safe to repeat, because a reply's dedupe key and a notification's delivery record let each take effect once",
  )
  .argument('[id]', 'dead letter id')
  .option('--all', 'every dead letter not replayed yet')
  .option('--queue <name>', 'with --all: only this queue')
  .action((id: string | undefined, o: { all?: boolean; queue?: string }) =>
    replayDlq(loadConfig(), id, { ...o, all: !!o.all }),
  );

dlq
  .command('purge')
  .description('delete dead letters that failed longer ago than the age given')
  .requiredOption('--older-than <age>', 'an age such as 30d, 12h or 90m')
  .action((o: { olderThan: string }) => purgeDlq(loadConfig(), o));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  if (error instanceof UsageError) {
    process.stderr.write(`ticketflow: ${error.message}\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`ticketflow: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT_FAILED);
}
