import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '@ticketflow/config';
import { signToken, type Role } from '@ticketflow/ingress';
import { catalogQueues, createRedis, jobCatalog, openQueue } from '@ticketflow/queue';
import {
  freePort,
  startRedisServer,
  startSmtpPeer,
  startWebhookReceiver,
  type RedisServer,
  type SmtpPeer,
  type WebhookReceiver,
} from '@ticketflow/testing/peers';
import { newWebhookSecret } from '@ticketflow/worker';
import { onCleanup } from './cleanup.ts';
import { createFaultDatabase, type FaultDatabase } from './database.ts';
import { startServe, type ServeProcess } from './serve-process.ts';
import { STACK_ENV } from './settings.ts';

/** Everything one run of `npm run test:faults` owns, and the means to break it. */
export interface FaultStack {
  /** Names this run's markers and prefix. */
  run: string;
  /** The ingress, always on the same port (a restart takes it again, so clients reconnect). */
  url: string;
  /** A client token of the demo client, whose replies notify the department by email. */
  token: string;
  /** An ops token, for each process's /metrics. */
  opsToken: string;
  database: FaultDatabase;
  redis: RedisServer;
  smtp: SmtpPeer;
  hooks: WebhookReceiver;
  ingress(): ServeProcess;
  /** The worker processes, one per slot; a replaced worker takes its predecessor's slot. */
  workers(): ServeProcess[];
  /** SIGKILLs the ingress and starts it again on the same port; resolves once it is ready. */
  crashIngress(): Promise<void>;
  /** SIGKILLs the worker in `slot` and starts another there; `replaced`: once that one is ready. */
  crashWorker(slot: number): Promise<{ replaced: Promise<void> }>;
  /** Every queue of the job catalog, read through the run's own connection (`observer`). */
  queues: Queue[];
  observer: Redis;
  /** Where the product's logs go (kept when the run fails). */
  logDir: string;
}

/**
 * A redis-server of its own (AOF, appendfsync always), a fresh database, an SMTP peer and a
 * webhook receiver, one `serve --ingress` and `workers` `serve --worker` processes. Every
 * resource registers its cleanup as soon as it exists.
 */
export async function startFaultStack(options: {
  workers: number;
  tickets: number;
}): Promise<FaultStack> {
  const run = randomBytes(3).toString('hex');
  const logDir = await mkdtemp(join(tmpdir(), 'tf-faults-'));
  onCleanup('log folder', () => rm(logDir, { recursive: true, force: true }));

  const redis = await startRedisServer({ aof: true });
  onCleanup('redis-server', () => redis.close());
  const smtp = await startSmtpPeer();
  onCleanup('SMTP peer', () => smtp.close());
  const hooksSecret = newWebhookSecret();
  const hooks = await startWebhookReceiver(hooksSecret);
  onCleanup('webhook receiver', () => hooks.close());
  const database = await createFaultDatabase({
    tickets: options.tickets,
    webhook: { url: hooks.url, secret: hooksSecret },
  });
  onCleanup('database', () => database.drop());

  const jwtSecret = randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    ...STACK_ENV,
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    TICKETFLOW_QUEUE_PREFIX: `tf-faults-${run}`,
    TICKETFLOW_JWT_SECRET: jwtSecret,
    TICKETFLOW_MAIL_SECRET: randomBytes(32).toString('hex'),
    SMTP_URL: smtp.url,
  };
  const config = parseConfig(env);

  const observer: Redis = createRedis(redis.url, 'producer');
  const queues = catalogQueues(jobCatalog(config)).map((q) => {
    const queue = openQueue(q, observer, config.queuePrefix);
    // Redis goes away in phases 3 and 4 on purpose; the queues are read only once it is back.
    queue.on('error', () => {});
    return queue;
  });
  onCleanup('queue observers', async () => {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    observer.disconnect();
  });

  // Killed processes are the phases' business; whatever is left runs until here.
  const processes = new Set<ServeProcess>();
  onCleanup('product processes', async () => {
    await Promise.all([...processes].map((p) => p.kill()));
  });
  const start = async (name: string, role: 'ingress' | 'worker', port: number) => {
    const started = await startServe({ name, role, port, env, logDir });
    processes.add(started);
    return started;
  };

  const sign = (claims: { role: Role; sub: string; clientid?: number }) =>
    signToken({
      secret: jwtSecret,
      audience: config.jwt.audience,
      issuer: undefined,
      ttlSeconds: 3600,
      ...claims,
    });
  const ingressPort = await freePort();
  let ingress = await start('ingress', 'ingress', ingressPort);
  const workers: ServeProcess[] = [];
  for (let slot = 0; slot < options.workers; slot++) {
    workers.push(await start(`worker-${slot}`, 'worker', await freePort()));
  }

  return {
    run,
    url: ingress.url,
    token: sign({ role: 'client', sub: `faults-${run}`, clientid: database.seed.clientId }),
    opsToken: sign({ role: 'ops', sub: `faults-${run}-ops` }),
    database,
    redis,
    smtp,
    hooks,
    ingress: () => ingress,
    workers: () => [...workers],
    async crashIngress() {
      await ingress.kill();
      processes.delete(ingress);
      ingress = await start('ingress', 'ingress', ingressPort);
    },
    async crashWorker(slot) {
      const victim = workers[slot]!;
      // A slot whose replacement is still starting has nothing to kill, and two replacements
      // would leave one running outside the slots.
      if (!victim.running()) throw new Error(`worker-${slot} is not running`);
      await victim.kill();
      processes.delete(victim);
      const replaced = freePort().then(async (port) => {
        workers[slot] = await start(`worker-${slot}`, 'worker', port);
      });
      return { replaced };
    },
    queues,
    observer,
    logDir,
  };
}
