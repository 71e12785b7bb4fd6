import { defineConfig } from 'vitest/config';

/**
 * Suites that stop or restart services other suites share (the machine's PostgreSQL). They
 * run after the main run (`npm test`), one file at a time, never beside another suite.
 */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.serial.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
