// `npm run test:faults [-- --only 1,4] [--fuzz-runs N] [--keep-logs]`: issue 13's "Faults, under
// load". Real processes on a Redis and a database of the run's own, a fault per phase under a
// steady load, the invariants checked after each; then the long fuzz of the HTTP surface. Exit 1
// when anything fails. Progress on stderr, the table on stdout, the rows in faults-results/.
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUp, cleanUpOnExit, wasInterrupted } from './cleanup.ts';
import { runLongFuzz } from './fuzz.ts';
import { PHASES } from './phases.ts';
import { runPhase, type PhaseResult } from './run-phase.ts';
import { FREEZE_MS, SETTINGS, STACK_ENV } from './settings.ts';
import { startFaultStack, type FaultStack } from './stack.ts';
import { formatTable } from './table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    'fuzz-runs': { type: 'string', default: String(SETTINGS.fuzzRuns) },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const only = args.only?.split(',').map(Number);
if (only?.some((id) => !PHASES.some((p) => p.id === id))) usage(`unknown phase in ${args.only}`);
const fuzzRuns = Number(args['fuzz-runs']);
if (!Number.isInteger(fuzzRuns) || fuzzRuns < 0) usage('--fuzz-runs must be a whole number');
const selected = PHASES.filter((p) => !only || only.includes(p.id));

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const resultsDir = join(ROOT, 'faults-results');
const progress = (line: string) => {
  const s = Math.round((Date.now() - startedAt.getTime()) / 1000);
  process.stderr.write(
    `[faults ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}] ${line}\n`,
  );
};
cleanUpOnExit();

const results: Array<PhaseResult & { phase: number }> = [];
/** A failure that ended the run before its phases did (a process that would not start). */
let aborted: string | undefined;
let stack: FaultStack | undefined;
try {
  progress(
    `starting redis-server (AOF, appendfsync always), a database, an SMTP peer, a webhook receiver, ` +
      `1 ingress and ${SETTINGS.workers} workers`,
  );
  stack = await startFaultStack({ workers: SETTINGS.workers, tickets: SETTINGS.tickets });
  for (const phase of selected) {
    if (wasInterrupted()) break;
    progress(`phase ${phase.id}: ${phase.name}`);
    const result = await runPhase(stack, phase, (line) => progress(`phase ${phase.id}: ${line}`));
    results.push({ phase: phase.id, ...result });
    progress(
      `phase ${phase.id}: ${result.violations.length === 0 ? 'ok' : `FAILED: ${result.violations.join('; ')}`}`,
    );
  }
} catch (error) {
  aborted = (error as Error).stack ?? String(error);
  progress(`aborted: ${aborted}`);
}
const phasesFailed = aborted !== undefined || results.some((r) => r.violations.length > 0);
await mkdir(resultsDir, { recursive: true });
if ((phasesFailed || args['keep-logs']) && stack) {
  const kept = join(resultsDir, `faults-${stamp}-logs`);
  await cp(stack.logDir, kept, { recursive: true });
  progress(`the product's logs are kept in ${kept}`);
}
await cleanUp();

process.stdout.write(`\n${formatTable(results.map((r) => r.row))}\n`);
for (const r of results) {
  for (const violation of r.violations) process.stdout.write(`phase ${r.phase}: ${violation}\n`);
}
if (aborted) process.stdout.write(`aborted: ${aborted.split('\n')[0]}\n`);

const fuzz =
  fuzzRuns > 0 && !wasInterrupted()
    ? await runLongFuzz(fuzzRuns).finally(cleanUp)
    : { ok: true, line: 'fuzz: skipped' };
const file = join(resultsDir, `faults-${stamp}.json`);
const ok = !phasesFailed && fuzz.ok;
await writeFile(
  file,
  `${JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
      ok,
      settings: { ...SETTINGS, freezeMs: FREEZE_MS, stackEnv: STACK_ENV },
      phases: results,
      aborted: aborted ?? null,
      fuzz,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`written to ${file}\n${fuzz.line}\n`);
process.exitCode = ok ? 0 : 1;

function usage(message: string): never {
  process.stderr.write(
    `test:faults: ${message}\nusage: npm run test:faults -- [--only ${PHASES.map((p) => p.id).join(',')}] [--fuzz-runs N] [--keep-logs]\n`,
  );
  process.exit(2);
}
