import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Engine tests start worker threads; two cores are shared between test files.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'flint', include: ['test/**/*.test.ts'] } },
      // API.md's promise: every method gives the same answers on a cluster of two workers.
      { extends: true, test: { name: 'api-on-cluster', include: ['test/api/**/*.test.ts'], globalSetup: ['test/cluster/global-setup.ts'] } },
    ],
  },
});
