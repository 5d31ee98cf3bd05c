import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@ticketflow/testing/peers';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TICKETFLOW_BIN = join(ROOT, 'apps/cli/bin/ticketflow.mjs');
const KiB = 1024;

/** A server or worker the bench started: product or baseline, always a separate process. */
export interface Child {
  name: string;
  pid: number;
  /** Every child listens on 127.0.0.1 (workers only for their health check). */
  url: string;
  /** Where a child that takes mail listens for SMTP, also on 127.0.0.1. */
  smtpPort?: number;
  logPath: string;
  /** SIGTERM, so a --cpu-prof child writes its profile; SIGKILL if it has not exited in time. */
  stop(): Promise<void>;
}

/**
 * What a child runs: the product's own CLI, or one of bench/baselines/*.ts. The bridge and a
 * baseline with `smtp` take mail on a port of their own besides PORT: `--smtp` for the
 * product, SMTP_PORT for a baseline.
 */
export type Program =
  | { kind: 'ticketflow'; mode: 'ingress' | 'worker' | 'bridge' }
  | { kind: 'baseline'; script: string; smtp?: boolean };

export interface ChildOptions {
  name: string;
  program: Program;
  env: Record<string, string>;
  logDir: string;
  /** Extra node flags, e.g. `--cpu-prof` (Node 20 refuses it in NODE_OPTIONS). */
  nodeArgs?: string[];
}

const running = new Set<ChildProcess>();
// Last resort when the orchestrator dies mid-run: no server outlives the bench.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a child on a free port and resolves once it answers its health check. */
export async function startChild(options: ChildOptions): Promise<Child> {
  const { program } = options;
  const port = await freePort();
  const smtpPort = (program.kind === 'ticketflow' ? program.mode === 'bridge' : program.smtp)
    ? await freePort()
    : undefined;
  const url = `http://127.0.0.1:${port}`;
  const logPath = join(options.logDir, `${options.name}-${port}.log`);
  // Output goes to a file: the orchestrator also runs the load generator, and reading a busy
  // access log through a pipe would take CPU from it. The file also explains a failed start.
  const log = openSync(logPath, 'a');
  const args = [...(options.nodeArgs ?? []), ...programArgs(program, port, smtpPort)];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PORT: String(port) };
  if (program.kind === 'baseline' && smtpPort !== undefined) env.SMTP_PORT = String(smtpPort);
  // Every child runs with the same flags, whatever the shell that started the bench had set.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', log, log] });
  closeSync(log);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  const readyPath = program.kind === 'ticketflow' ? '/readyz' : '/healthz';
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited:\n${tail(logPath)}`);
    const res = await fetch(url + readyPath).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} never became ready:\n${tail(logPath)}`);
    }
    await sleep(100);
  }
  return { name: options.name, pid: child.pid!, url, smtpPort, logPath, stop };
}

/** The child's command line after `node`: the product's CLI, or a baseline under tsx. */
function programArgs(program: Program, port: number, smtpPort: number | undefined): string[] {
  if (program.kind === 'baseline') {
    return ['--import', 'tsx', join(ROOT, 'bench/baselines', program.script)];
  }
  if (program.mode !== 'bridge') return [TICKETFLOW_BIN, 'serve', `--${program.mode}`];
  // `--http` answers /readyz (PostgreSQL and Redis reachable) on PORT, as `serve` does.
  return [
    TICKETFLOW_BIN,
    'bridge',
    '--smtp',
    String(smtpPort),
    '--http',
    String(port),
    '--host',
    '127.0.0.1',
  ];
}

/** Peak (VmHWM) and current (VmRSS) resident set of a process, in bytes. */
export function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]) * KiB;
  };
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux build in use). */
const USER_HZ = 100;

/** CPU seconds a process has used so far, all its threads, user and system. */
export function cpuSecondsOf(pid: number): number {
  return cpuSecondsIn(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU seconds of a process's main thread alone: the one that runs its JavaScript, so the one
 * that bounds a Node process at one core whatever its GC and I/O threads add.
 */
export function mainThreadCpuSecondsOf(pid: number): number {
  return cpuSecondsIn(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}

/** The same from the text of a `/proc/<pid>/stat` already read. */
export function cpuSecondsIn(stat: string): number {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** The last lines of a child's log, for error messages. */
export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
