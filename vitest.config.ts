import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Slow opt-in tests (*.large.test.ts) run with SLIMNET_LARGE=1 (npm run test:large).
    include: process.env.SLIMNET_LARGE ? ['test/**/*.large.test.ts'] : ['test/**/*.test.ts'],
    exclude: process.env.SLIMNET_LARGE ? ['node_modules/**'] : ['test/**/*.large.test.ts', 'node_modules/**'],
    // onnxruntime-node is a native addon: separate processes keep each test file's runtime isolated.
    pool: 'forks',
    // Builds the CLI once as plain JavaScript for the tests that spawn it (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    // Vitest's default (cores - 1) runs the files one by one on 2 cores; most tests wait on child
    // processes or one-thread sessions, so two workers there take the suite from 400 s to 300 s.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
