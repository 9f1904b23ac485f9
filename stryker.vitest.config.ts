// Vitest config for mutation testing (stryker.config.json): only the pure layers' tests,
// no GPU files, so that a mutant is judged by the tests meant to catch it (and another
// engineer's unrelated failing test cannot stop the run). STRYKER_TESTS (comma-separated
// globs) narrows it further. Written out rather than merged with vitest.config.ts: merging
// concatenates `include` lists.
import { defineConfig } from 'vitest/config';

const only = process.env.STRYKER_TESTS?.split(',').filter(Boolean);

export default defineConfig({
  test: {
    include: only ?? ['src/io/**/*.test.ts', 'src/data/**/*.test.ts', 'src/train/**/*.test.ts'],
    exclude: ['**/*.gpu.test.ts', '**/node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
