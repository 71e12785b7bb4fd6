import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // *.serial.test.ts restart shared services (PostgreSQL): vitest.serial.config.ts runs them alone, afterwards.
    exclude: [...configDefaults.exclude, 'packages/*/test/**/*.serial.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites start real servers on ephemeral ports; a few at a time keeps this 2-core box responsive.
    maxWorkers: 2,
  },
});
