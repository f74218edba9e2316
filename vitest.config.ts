import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // better-sqlite3 and the HTTP fakes are fine in parallel forks; two cores here.
    maxWorkers: 2,
    // CI asks for a JSON report too, to print a plain "N passed, N failed" line.
    reporters: process.env.VITEST_JSON ? ['default', ['json', { outputFile: process.env.VITEST_JSON }]] : ['default'],
  },
});
