import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

/** A `redis-server` child of the test's own, on its own port and folder. */
export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server with `signal` (SIGKILL: a crash) and waits for it to go. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** `SHUTDOWN`: a graceful stop (the AOF is flushed). */
  shutdown(): Promise<void>;
  /** Starts it again on the same port and folder (its AOF, when on, is loaded). */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
}

/**
 * For tests that restart or crash Redis: never the machine's shared server. `aof` turns on the
 * append-only file with `appendfsync always`, what docker-compose ships; `args` are further
 * `redis-server` arguments (cluster mode, say), whose relative files go in the server's folder.
 */
export async function startRedisServer(
  options: { aof?: boolean; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(
    ...(options.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  );
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const start = async () => {
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => {});
      const up = await probe.connect().then(
        () => probe.ping().then(() => true),
        () => false,
      );
      probe.disconnect();
      if (up) return;
      if (Date.now() > deadline || started.exitCode !== null) {
        throw new Error(`redis-server on port ${port} did not start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await exited(c);
  };
  const shutdown = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    const client = new Redis(url, { maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    await client.call('SHUTDOWN').catch(() => undefined);
    client.disconnect();
    await exited(c);
  };
  await start();
  return {
    url,
    port,
    kill,
    shutdown,
    start,
    async close() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
