import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails the run if any test wrote the user's ./data.
    globalSetup: ['test/helpers/untouchedData.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database and socket tests use real servers; keep files in separate forks so a fault test cannot leak.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
