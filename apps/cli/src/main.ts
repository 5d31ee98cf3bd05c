import { Command, CommanderError } from 'commander';
import { demo } from './commands/demo.ts';
import { migrate } from './commands/migrate.ts';
import { queues } from './commands/queues.ts';
import { serve } from './commands/serve.ts';
import { token, type TokenOptions } from './commands/token.ts';
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  process.stderr.write(`ticketflow: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT_FAILED);
}
