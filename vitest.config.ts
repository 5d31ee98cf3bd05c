import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The one test configuration; every workspace runs `vitest run --config ../../vitest.config.ts`
 * from its own folder, so tests sit next to the code they cover.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: [
      fileURLToPath(new URL('./packages/testing/src/global-setup.ts', import.meta.url)),
    ],
    // The JSON report feeds the one-line summary .ci/run prints ("N passed, N failed").
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fail on ESM/CJS default-import mistakes the way Node does, not the way vitest forgives.
    deps: { interopDefault: false },
  },
});
