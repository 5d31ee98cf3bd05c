import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll } from 'vitest';
import {
  createTestDatabase,
  deletePrefix,
  redisUrl,
  uniquePrefix,
  type TestDatabase,
} from '@ticketflow/testing';

const BIN = fileURLToPath(new URL('../bin/ticketflow.mjs', import.meta.url));
/** How long a one-shot command may take before the test gives up on it (tsx start-up included). */
const COMMAND_DEADLINE_MS = 20_000;

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** What a test file gets from {@link useCliFixture}. */
interface CliFixture {
  /** The file's database, created in beforeAll (read it inside tests only). */
  readonly database: TestDatabase;
  /** A database of one test's own, for assertions on every row of a table; dropped in afterAll. */
  isolatedDatabase(): Promise<TestDatabase>;
  /** A BullMQ prefix for one test, deleted with the file's other keys in afterAll. */
  newPrefix(): string;
  /**
   * The environment of a spawned CLI: only what it needs, so variables of the machine running
   * the tests (a public key file, another prefix) cannot change the outcome.
   */
  env(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  /** Starts the CLI; afterAll kills it if a failed test left it running. */
  spawn(args: string[], env: NodeJS.ProcessEnv): ChildProcess;
  /** Runs a one-shot command to its end. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<Finished>;
}

/**
 * Registers the file's beforeAll and afterAll: a test database, BullMQ prefixes and spawned
 * processes, each cleaned up after the file's tests.
 */
export function useCliFixture(): CliFixture {
  let database: TestDatabase | undefined;
  const isolated: TestDatabase[] = [];
  const prefixes: string[] = [];
  const running = new Set<ChildProcess>();

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await Promise.all(prefixes.map(deletePrefix));
    const databases = database ? [database, ...isolated] : isolated;
    await Promise.all(databases.map((d) => d.drop()));
  });

  const fixture: CliFixture = {
    get database() {
      if (!database) throw new Error('the test database is created in beforeAll');
      return database;
    },
    async isolatedDatabase() {
      const created = await createTestDatabase();
      isolated.push(created);
      return created;
    },
    newPrefix() {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return prefix;
    },
    env(overrides = {}) {
      return {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: fixture.database.url,
        REDIS_URL: redisUrl(),
        TICKETFLOW_QUEUE_PREFIX: fixture.newPrefix(),
        ...overrides,
      };
    },
    spawn(args, env) {
      const child = spawn(process.execPath, [BIN, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      child.once('exit', () => running.delete(child));
      return child;
    },
    run(args, env = fixture.env()) {
      return finished(fixture.spawn(args, env));
    },
  };
  return fixture;
}

/** Resolves when the child exits, with everything it printed; kills it after the deadline. */
export function finished(child: ChildProcess, deadlineMs = COMMAND_DEADLINE_MS): Promise<Finished> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Non-empty output lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A job as the tests check it; undefined when BullMQ holds no job of that id. */
export async function readJob(
  queueName: string,
  prefix: string,
  jobId: string,
): Promise<
  | { name: string; data: unknown; state: string; attemptsMade: number; attempts?: number }
  | undefined
> {
  const queue = new Queue(queueName, { connection: { url: redisUrl() }, prefix });
  try {
    const job = await queue.getJob(jobId);
    if (!job) return undefined;
    return {
      name: job.name,
      data: job.data as unknown,
      state: await job.getState(),
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts,
    };
  } finally {
    await queue.close();
  }
}
