import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICKETFLOW_BIN = join(ROOT, 'apps/cli/bin/ticketflow.mjs');

/** One `ticketflow serve --ingress|--worker` child: the real product, as deployed. */
export interface ServeProcess {
  name: string;
  url: string;
  /** When it was started (ms since the epoch). */
  startedAt: number;
  /** False once it has exited. */
  running(): boolean;
  /** SIGSTOP and SIGCONT: frozen, as a process the kernel or a debugger stops. */
  freeze(): void;
  thaw(): void;
  /** SIGKILL, and resolves once it is gone: a crash, nothing flushed. */
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Last resort when the run itself dies: no product process outlives it (a frozen one included).
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `serve` in one role on `port` and resolves once its /readyz answers 200. */
export async function startServe(options: {
  name: string;
  role: 'ingress' | 'worker';
  port: number;
  env: Record<string, string>;
  logDir: string;
}): Promise<ServeProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const startedAt = Date.now();
  // Each start gets a log of its own: a killed process's last lines explain a failed phase.
  const logPath = join(options.logDir, `${options.name}-${Date.now()}.log`);
  const log = openSync(logPath, 'a');
  const child = spawn(process.execPath, [TICKETFLOW_BIN, 'serve', `--${options.role}`], {
    cwd: ROOT,
    // Only what the product needs, so the shell that started the run cannot change its outcome.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...options.env,
      PORT: String(options.port),
    },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  children.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!running())
      throw new Error(`${options.name} exited before it was ready:\n${tail(logPath)}`);
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(
      () => undefined,
    );
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`${options.name} was not ready within 30 s:\n${tail(logPath)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name: options.name,
    url,
    startedAt,
    running,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    kill,
  };
}

/** The last lines of a log, for error messages. */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}
