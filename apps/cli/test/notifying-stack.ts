import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWebhookEndpoint, seedDemo, type DemoSeed } from '@ticketflow/db';
import { signToken, type Role } from '@ticketflow/ingress';
import {
  startSmtpPeer,
  until,
  startWebhookReceiver,
  type SmtpPeer,
  type WebhookReceiver,
} from '@ticketflow/testing/peers';
import { newWebhookSecret } from '@ticketflow/worker';
import { finished, type Finished, type useCliFixture } from './run-cli.ts';

type CliFixture = ReturnType<typeof useCliFixture>;

/** A `ticketflow serve` child with a real SMTP peer and a webhook receiver behind it. */
export interface NotifyingStack {
  url: string;
  /** The environment the child runs with (its prefix, secret and peers). */
  env: NodeJS.ProcessEnv;
  seed: DemoSeed;
  smtp: SmtpPeer;
  hooks: WebhookReceiver;
  token(role: Role, claims?: { clientid?: number }): string;
  /**
   * POSTs a reply to the demo ticket as its client, urlencoded, with `Prefer: wait=<waitS>` and
   * an `Idempotency-Key` when given; answers the HTTP status and the JSON body.
   */
  postReply(
    message: string,
    options?: { waitS?: number; idempotencyKey?: string },
  ): Promise<{ status: number; body: ReplyAnswer }>;
  /**
   * Waits until `ticketflow queues --json` shows every catalog queue with nothing waiting or
   * active, and answers the queues as it listed them.
   */
  drained(): Promise<QueueCounts[]>;
  /** Starts `serve` once more on this stack's database and prefix (e.g. `--worker` alone). */
  serve(args: string[], env?: Record<string, string>): Promise<ServeChild>;
  close(): Promise<void>;
}

/** One queue of `ticketflow queues --json`. */
export interface QueueCounts {
  name: string;
  counts: Record<string, number>;
}

/** What add-ticket-reply answers (success or error). */
export interface ReplyAnswer {
  result: string;
  replyid: string;
  status: string;
  message?: string;
}

export interface ServeChild {
  child: ChildProcess;
  url: string;
  exited: Promise<Finished>;
}

/**
 * Seeds the demo rows and one webhook endpoint into the fixture's database, then starts
 * `serve` (ingress and workers, or the modes in `serveArgs`) as a real process sending to the
 * SMTP peer and the receiver, with `env` over the stack's own environment. Webhook retries are
 * 200 ms apart and private targets allowed: the receiver is on 127.0.0.1.
 */
export async function startNotifyingStack(
  cli: CliFixture,
  options: { env?: Record<string, string>; serveArgs?: string[] } = {},
): Promise<NotifyingStack> {
  const secret = randomBytes(32).toString('hex');
  const smtp = await startSmtpPeer();
  const hooksSecret = newWebhookSecret();
  const hooks = await startWebhookReceiver(hooksSecret);
  const mailDir = await mkdtemp(join(tmpdir(), 'tf-cli-mail-'));
  const seed = await seedDemo(cli.database.db);
  await addWebhookEndpoint(cli.database.db, {
    url: hooks.url,
    secret: hooksSecret,
    events: ['ticket.reply.created'],
  });
  const env = cli.env({
    TICKETFLOW_JWT_SECRET: secret,
    TICKETFLOW_MAIL_SECRET: randomBytes(32).toString('hex'),
    TICKETFLOW_MAIL_DIR: mailDir,
    SMTP_URL: smtp.url,
    TICKETFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
    TICKETFLOW_WEBHOOK_SCHEDULE: '200ms,200ms,200ms',
    TICKETFLOW_REPLY_BACKOFF_MS: '50',
    TICKETFLOW_ACCESS_LOG: 'false',
    ...options.env,
  });
  const serve = (args: string[], extra: Record<string, string> = {}) =>
    startServeChild(cli, args, { ...env, PORT: '0', LOG_LEVEL: 'info', ...extra });
  const main = await serve(options.serveArgs ?? []);
  const token: NotifyingStack['token'] = (role, claims = {}) =>
    signToken({
      secret,
      audience: 'ticketflow',
      issuer: undefined,
      role,
      sub: `${role}-cli-test`,
      ...claims,
      ttlSeconds: 600,
    });
  return {
    url: main.url,
    env,
    seed,
    smtp,
    hooks,
    token,
    async postReply(message, { waitS, idempotencyKey } = {}) {
      const res = await fetch(`${main.url}/api/v2/add-ticket-reply`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token('client', { clientid: seed.clientId })}`,
          'content-type': 'application/x-www-form-urlencoded',
          ...(waitS === undefined ? {} : { prefer: `wait=${waitS}` }),
          ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
        },
        body: new URLSearchParams({ ticketid: String(seed.ticketId), message }),
      });
      return { status: res.status, body: (await res.json()) as ReplyAnswer };
    },
    drained: () =>
      until(
        'every catalog queue drained',
        async () => {
          const run = await cli.run(['queues', '--json'], env);
          if (run.code !== 0) throw new Error(`queues --json failed: ${run.stderr}`);
          const listed = (JSON.parse(run.stdout) as { queues: QueueCounts[] }).queues;
          return listed.every((q) => q.counts.waiting === 0 && q.counts.active === 0) && listed;
        },
        30_000,
      ),
    serve,
    async close() {
      main.child.kill('SIGTERM');
      await main.exited;
      await hooks.close();
      await smtp.close();
      await rm(mailDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `serve` with PORT=0 and reads the port from its "ticketflow listening" log line (pino
 * JSON on stdout); `exited` settles with everything the process printed.
 */
export async function startServeChild(
  cli: CliFixture,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ServeChild> {
  const child = cli.spawn(['serve', ...args], env);
  const exited = finished(child, 120_000);
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      const complete = buffered.split('\n');
      buffered = complete.pop()!;
      const line = complete.find((l) => l.includes('ticketflow listening'));
      if (!line) return;
      child.stdout!.off('data', onData);
      resolve((JSON.parse(line) as { port: number }).port);
    };
    child.stdout!.on('data', onData);
    void exited.then((f) =>
      reject(new Error(`serve exited before listening (${f.code}): ${f.stderr}${f.stdout}`)),
    );
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}
