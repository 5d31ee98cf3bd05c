import { describe, it } from 'vitest';
import { addWebhookEndpoint, insertTestEvent, type Db } from '@ticketflow/db';
import { isWebhookSecret, newWebhookSecret } from '@ticketflow/worker';
import { lines, readJob, useCliFixture } from './run-cli.ts';

const cli = useCliFixture();
/** Tests run a few commands in a row while the others spawn theirs: tsx start-up adds up. */
const COMMANDS_TIMEOUT_MS = 60_000;
/** A test that spawns the CLI many times in a row, while the file's other tests spawn theirs. */
const LONG_TEST_MS = 120_000;
const EVENT = 'ticket.reply.created';

function addEndpoint(db: Db, url = 'https://hooks.example/in'): Promise<number> {
  return addWebhookEndpoint(db, { url, secret: newWebhookSecret(), events: [EVENT] });
}

describe.concurrent('ticketflow webhooks', { timeout: COMMANDS_TIMEOUT_MS }, () => {
  it(
    'adds an endpoint, lists it without its secret, disables, enables and removes it',
    async ({ expect }) => {
      const own = await cli.isolatedDatabase();
      const env = cli.env({ DATABASE_URL: own.url });
      const webhooks = async (...args: string[]) => {
        const result = await cli.run(['webhooks', ...args], env);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        return result.stdout;
      };

      const added = await webhooks('add', 'https://hooks.example/in', '--events', EVENT, '--json');
      const { id, secret } = JSON.parse(added) as { id: number; secret: string };
      expect(isWebhookSecret(secret)).toBe(true);
      expect(await own.db('webhook_endpoints').where({ id }).first('secret')).toEqual({ secret });

      const listed = await webhooks('list', '--json');
      expect(listed).not.toContain('secret');
      expect(listed).not.toContain(secret.slice('whsec_'.length));
      expect(JSON.parse(listed)).toEqual({
        endpoints: [
          {
            id,
            url: 'https://hooks.example/in',
            events: [EVENT],
            enabled: true,
            disabledReason: null,
            failingSince: null,
            createdAt: expect.any(String) as unknown,
          },
        ],
      });

      expect(await webhooks('disable', String(id))).toBe(`disabled webhook endpoint ${id}\n`);
      const table = await webhooks('list');
      expect(table).not.toContain(secret.slice('whsec_'.length));
      expect(lines(table)).toEqual([
        expect.stringMatching(/^ID\s+URL\s+EVENTS\s+STATE\s+FAILING SINCE$/) as unknown,
        expect.stringMatching(
          new RegExp(
            `^${id}\\s+https://hooks\\.example/in\\s+${EVENT}\\s+disabled \\(disabled by an operator\\)\\s+-$`,
          ),
        ) as unknown,
      ]);

      expect(await webhooks('enable', String(id))).toBe(`enabled webhook endpoint ${id}\n`);
      expect(
        await own.db('webhook_endpoints').where({ id }).first('enabled', 'disabled_reason'),
      ).toEqual({ enabled: true, disabled_reason: null });

      expect(await webhooks('remove', String(id))).toBe(`removed webhook endpoint ${id}\n`);
      expect(await webhooks('list')).toBe('no webhook endpoints\n');
    },
    LONG_TEST_MS,
  );

  it('stores the --secret given and prints only the id', async ({ expect }) => {
    const secret = newWebhookSecret();
    const result = await cli.run([
      'webhooks',
      'add',
      'https://hooks.example/given',
      '--events',
      EVENT,
      '--secret',
      secret,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const id = Number(/^id (\d+)\n$/.exec(result.stdout)?.[1]);
    expect(await cli.database.db('webhook_endpoints').where({ id }).first('secret')).toEqual({
      secret,
    });
  });

  it('prints the generated secret once, with the advice to store it', async ({ expect }) => {
    const result = await cli.run([
      'webhooks',
      'add',
      'https://hooks.example/shown',
      '--events',
      EVENT,
    ]);
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      expect.stringMatching(/^id \d+$/) as unknown,
      expect.stringMatching(/^secret whsec_\S+$/) as unknown,
      expect.stringContaining('not shown again') as unknown,
    ]);
  });

  it.for([
    {
      args: ['ftp://hooks.example/in', '--events', EVENT],
      code: 1,
      says: 'http or https',
    },
    {
      args: ['http://127.0.0.1/in', '--events', EVENT],
      code: 1,
      says: 'TICKETFLOW_WEBHOOK_ALLOW_PRIVATE',
    },
    {
      args: ['http://[::ffff:10.0.0.1]/in', '--events', EVENT],
      code: 1,
      says: 'TICKETFLOW_WEBHOOK_ALLOW_PRIVATE',
    },
    {
      args: ['https://hooks.example/in', '--events', EVENT, '--secret', 'whsec_short'],
      code: 2,
      says: '--secret',
    },
    {
      args: ['https://hooks.example/in', '--events', `${EVENT},ticket.closed`],
      code: 2,
      says: `unknown: ticket.closed; known: ${EVENT}`,
    },
    { args: ['https://hooks.example/in'], code: 2, says: '--events' },
  ])(
    'refuses webhooks add $args with exit $code and one stderr line',
    async ({ args, code, says }, { expect }) => {
      const result = await cli.run(['webhooks', 'add', ...args]);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual([expect.stringContaining(says) as unknown]);
    },
  );

  it('adds a loopback URL when TICKETFLOW_WEBHOOK_ALLOW_PRIVATE is set', async ({ expect }) => {
    const result = await cli.run(
      ['webhooks', 'add', 'http://127.0.0.1:9/in', '--events', EVENT, '--json'],
      cli.env({ TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true' }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.for(['remove', 'enable', 'disable', 'attempts', 'test'])(
    'exits 1 from webhooks %s with an id no endpoint has, and 2 with an id that is not one',
    async (command, { expect }) => {
      const [missing, notAnId] = await Promise.all([
        cli.run(['webhooks', command, '999999']),
        cli.run(['webhooks', command, '0']),
      ]);
      expect(missing.code).toBe(1);
      expect(lines(missing.stderr)).toEqual(['ticketflow: no webhook endpoint 999999']);
      expect(notAnId.code).toBe(2);
      expect(lines(notAnId.stderr)).toEqual([
        expect.stringContaining('must be a positive integer') as unknown,
      ]);
    },
  );

  it('prints the attempts recorded for an endpoint, newest first, up to --limit', async ({
    expect,
  }) => {
    const db = cli.database.db;
    const id = await addEndpoint(db);
    const outboxId = await insertTestEvent(db, id);
    const attempt = (
      webhookId: string,
      minutesAgo: number,
      status: number | null,
      error: string | null,
    ) => ({
      outbox_id: outboxId,
      endpoint_id: id,
      webhook_id: webhookId,
      attempted_at: new Date(Date.now() - minutesAgo * 60_000),
      http_status: status,
      duration_ms: 40 + minutesAgo,
      error,
    });
    await db('webhook_attempts').insert([
      attempt('msg_oldest', 30, 500, 'HTTP 500'),
      attempt('msg_middle', 20, null, 'connect ECONNREFUSED'),
      attempt('msg_newest', 10, 200, null),
    ]);

    const json = await cli.run(['webhooks', 'attempts', String(id), '--json', '--limit', '2']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      attempts: [
        expect.objectContaining({
          webhookId: 'msg_newest',
          httpStatus: 200,
          durationMs: 50,
          error: null,
        }),
        expect.objectContaining({
          webhookId: 'msg_middle',
          httpStatus: null,
          durationMs: 60,
          error: 'connect ECONNREFUSED',
        }),
      ],
    });

    const table = await cli.run(['webhooks', 'attempts', String(id)]);
    expect(table.code).toBe(0);
    const rows = lines(table.stdout);
    expect(rows[0]).toMatch(/^TIME\s+WEBHOOK-ID\s+STATUS\s+MS\s+ERROR$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(1))).toEqual([
      ['msg_newest', '200', '50', '-'],
      ['msg_middle', '-', '60', 'connect', 'ECONNREFUSED'],
      ['msg_oldest', '500', '70', 'HTTP', '500'],
    ]);
  });

  it('enqueues a webhook.test event as job notify-<outbox id> on the notifications queue', async ({
    expect,
  }) => {
    const db = cli.database.db;
    const id = await addEndpoint(db);
    const prefix = cli.newPrefix();
    const result = await cli.run(
      ['webhooks', 'test', String(id)],
      cli.env({ TICKETFLOW_QUEUE_PREFIX: prefix }),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const outboxId = /^outbox ([0-9a-f-]{36})$/m.exec(result.stdout)?.[1];
    expect(outboxId).toBeDefined();
    expect(
      await db('outbox').where({ id: outboxId }).first('event', 'endpoint_id', 'channel'),
    ).toEqual({ event: 'webhook.test', endpoint_id: id, channel: 'webhook' });
    expect(
      await db('outbox').where({ id: outboxId }).whereNotNull('dispatched_at').count('* as n'),
    ).toEqual([{ n: '1' }]);

    expect(await readJob('notifications', prefix, `notify-${outboxId}`)).toMatchObject({
      name: 'webhook',
      data: { v: 1, outboxId },
      state: 'waiting',
    });
  });

  it('refuses to test a disabled endpoint, exit 1', async ({ expect }) => {
    const db = cli.database.db;
    const id = await addEndpoint(db);
    await db('webhook_endpoints').where({ id }).update({ enabled: false });
    const result = await cli.run(['webhooks', 'test', String(id)]);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `ticketflow: webhook endpoint ${id} is disabled; enable it first: ticketflow webhooks enable ${id}`,
    ]);
  });
});
