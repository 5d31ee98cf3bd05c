// `npm run bench [-- --only id,id] [--rounds N] [--cpu-prof DIR]`: every scenario of issue 6,
// each figure a ratio against a hand-written baseline measured in the same rounds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOAD } from './load.ts';
import { startChild, type Child } from './processes.ts';
import type { Row, Scenario, ScenarioContext } from './rounds.ts';
import { bridgeSmtpScenario } from './scenarios/bridge-smtp.ts';
import { endToEndNotifyScenario } from './scenarios/end-to-end-notify.ts';
import { endToEndScenario } from './scenarios/end-to-end.ts';
import { ingressScenarios } from './scenarios/ingress.ts';
import {
  redisJobBytesScenario,
  redisMemoryScenario,
  uploadMemoryScenario,
} from './scenarios/memory.ts';
import { metricsCostScenario } from './scenarios/metrics-cost.ts';
import { redisFsyncScenario } from './scenarios/redis-fsync.ts';
import { webhookDeliveriesScenario } from './scenarios/webhook-deliveries.ts';
import { webhookIsolationScenario } from './scenarios/webhook-isolation.ts';
import { workerProcessesScenario } from './scenarios/worker-processes.ts';
import { workerScenario } from './scenarios/worker.ts';
import { deleteKeys } from '@ticketflow/testing/redis';
import { createStack, type BenchStack } from './stack.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const SCENARIOS: Scenario[] = [
  ...ingressScenarios,
  workerScenario,
  workerProcessesScenario,
  endToEndScenario,
  uploadMemoryScenario,
  redisJobBytesScenario,
  redisMemoryScenario,
  endToEndNotifyScenario,
  webhookDeliveriesScenario,
  webhookIsolationScenario,
  metricsCostScenario,
  redisFsyncScenario,
  bridgeSmtpScenario,
];

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    'cpu-prof': { type: 'string' },
  },
});
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds must be a whole number ≥ 1`);
const only = args.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
if (unknown.length > 0) usage(`unknown scenario ${unknown.join(', ')}`);
const selected = SCENARIOS.filter((s) => !only || only.includes(s.id));
// Ticketflow's children only: the profile shows where the product spends its time.
const cpuProfDir = args['cpu-prof'] ? resolve(args['cpu-prof']) : undefined;
if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

const logDir = mkdtempSync(join(tmpdir(), 'tf-bench-'));
const children: Child[] = [];
let stack: BenchStack | undefined;
let cleaning: Promise<void> | undefined;

/** Stops every child, deletes the run's Redis keys and drops its database; safe to call twice. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(children.splice(0).map((c) => c.stop()));
    await stack?.close();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
  // and a second signal with no listener would end it before the database is dropped.
  process.on(signal, () => {
    if (!cleaning) process.stderr.write(`\n${signal}: cleaning up\n`);
    void cleanUp().finally(() => {
      rmSync(logDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

const startedAt = new Date();
const rows: Row[] = [];
try {
  stack = await createStack();
  const s = stack;
  const ctx: ScenarioContext = {
    stack: s,
    rounds,
    async start(name, program, prefix, env = {}) {
      const child = await startChild({
        name,
        program,
        env: { ...s.env(prefix), ...env },
        logDir,
        ...(cpuProfDir && program.kind === 'ticketflow'
          ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] }
          : {}),
      });
      children.push(child);
      return child;
    },
  };
  for (const scenario of selected) {
    if (cleaning) break;
    const began = Date.now();
    process.stderr.write(`${scenario.id}: running ${scenario.fixedRounds ?? rounds} round(s)…\n`);
    try {
      rows.push(...(await scenario.run(ctx)));
    } catch (error) {
      process.stderr.write(`${scenario.id}: ${(error as Error).message}\n`);
      rows.push(failedRow(scenario.id, error));
    } finally {
      await Promise.all(children.splice(0).map((c) => c.stop()));
      await deleteKeys(s.redis, `tfbench-${s.runId}-*`);
    }
    process.stderr.write(`${scenario.id}: done in ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
  }
} finally {
  await cleanUp();
}

const invalid = rows.some((r) => r.verdict === 'INVALID');
if (invalid) process.stderr.write(`child logs kept in ${logDir}\n`);
else rmSync(logDir, { recursive: true, force: true });

process.stdout.write(`\n${formatTable(rows)}\n`);
const file = writeResults(rows);
process.stdout.write(
  `\nrounds ${rounds}, ${LOAD.connections} connections, ${LOAD.warmupS} s warm-up + ` +
    `${LOAD.durationS} s per run; ratio = median of per-round ratios (min–max); ` +
    `memory bounds hold in every round.\nwritten to ${file}\n`,
);
if (cpuProfDir) process.stdout.write(`CPU profiles of Ticketflow's processes in ${cpuProfDir}\n`);
process.exitCode = invalid ? 1 : 0;

function failedRow(scenario: string, error: unknown): Row {
  return {
    scenario,
    metric: `${scenario}: no result`,
    unit: '',
    baselineName: '',
    ticketflow: [],
    baseline: [],
    ratios: [],
    verdict: 'INVALID',
    note: (error as Error).message,
  };
}

function formatTable(all: Row[]): string {
  const figure = (values: number[], unit: string) => {
    if (values.length === 0) return '–';
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted[sorted.length >> 1]!;
    const digits = unit === 'ms' || unit === 'MiB' ? 1 : 0;
    return `${mid.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
  };
  const body = all.map((r) => [
    r.metric,
    figure(r.ticketflow, r.unit),
    r.baselineName ? `${figure(r.baseline, r.unit)} ${r.baselineName}` : '–',
    r.ratio
      ? `${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`
      : '–',
    r.target?.text ?? '–',
    r.verdict,
  ]);
  const header = ['scenario', 'Ticketflow', 'baseline', 'ratio median (min–max)', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const notes = all
    .filter((r) => r.note)
    .map((r) => `- ${r.metric}: ${r.note}`)
    .join('\n');
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
    ...(notes ? ['', notes] : []),
  ].join('\n');
}

function writeResults(all: Row[]): string {
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain') !== '',
    node: process.version,
    cpus: cpus().length,
    options: { rounds, only: only ?? null, ...LOAD, cpuProfile: cpuProfDir ?? null },
    rows: all,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

function git(...gitArgs: string[]): string | null {
  try {
    return execFileSync('git', gitArgs, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function usage(message: string): never {
  process.stderr.write(
    `bench: ${message}\nusage: npm run bench -- [--only ${SCENARIOS.map((s) => s.id).join(',')}] [--rounds N] [--cpu-prof DIR]\n`,
  );
  process.exit(2);
}
