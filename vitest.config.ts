import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The one test configuration; every workspace runs `vitest run --config ../../vitest.config.ts`
 * from its own folder, so tests sit next to the code they cover.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: [fileURLToPath(new URL('./packages/testing/src/global-setup.ts', import.meta.url))],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Fail on ESM/CJS default-import mistakes the way Node does, not the way vitest forgives.
    deps: { interopDefault: false },
  },
});
