import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.ts';

const INGRESS = fileURLToPath(new URL('../apps/ingress', import.meta.url));
const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

/**
 * The long pass of apps/ingress/test/fuzz.test.ts, run as the ingress workspace runs its tests
 * (`vitest run --config ../../vitest.config.ts` from its folder) with `runs` cases and a seed
 * printed either way. Its JSON report goes to a folder of its own, so the workspace's
 * `.vitest-report.json` (which CI sums up) stays the suite's. Output goes to stderr.
 */
export async function runLongFuzz(runs: number): Promise<{ ok: boolean; line: string }> {
  const seed = Math.floor(Math.random() * 2 ** 31);
  const dir = await mkdtemp(join(tmpdir(), 'tf-faults-fuzz-'));
  onCleanup('fuzz report', () => rm(dir, { recursive: true, force: true }));
  const report = join(dir, 'report.json');
  const began = Date.now();
  const child = spawn(
    process.execPath,
    [
      VITEST,
      'run',
      '--config',
      '../../vitest.config.ts',
      'test/fuzz.test.ts',
      // The suite's 30 s per test is for its 150 runs.
      '--testTimeout=600000',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    {
      cwd: INGRESS,
      env: {
        ...process.env,
        TICKETFLOW_FUZZ_RUNS: String(runs),
        TICKETFLOW_FUZZ_SEED: String(seed),
      },
      stdio: ['ignore', process.stderr, process.stderr],
    },
  );
  // SIGTERM, not SIGKILL: vitest then runs its global teardown, which drops the template database.
  onCleanup('fuzz', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = Math.round((Date.now() - began) / 1000);
  const summary = await readFile(report, 'utf8').then(
    (text) => JSON.parse(text) as { numPassedTests: number; numTotalTests: number },
    () => undefined,
  );
  const tests = summary
    ? `${summary.numPassedTests} of ${summary.numTotalTests} tests passed`
    : 'no report';
  const ok = code === 0;
  const rerun = ok
    ? ''
    : ` (again: cd apps/ingress && TICKETFLOW_FUZZ_RUNS=${runs} TICKETFLOW_FUZZ_SEED=${seed} npx vitest run --config ../../vitest.config.ts --testTimeout=600000 test/fuzz.test.ts)`;
  return {
    ok,
    line: `fuzz: ${runs} runs, seed ${seed}: ${ok ? 'passed' : 'FAILED'}, ${tests} in ${seconds} s${rerun}`,
  };
}
