import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // better-sqlite3 and the HTTP fakes are fine in parallel forks; two cores here.
    maxWorkers: 2,
  },
});
