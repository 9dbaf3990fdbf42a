import { defineConfig } from 'vitest/config';

// Our own tests (unit + integration). The stress suite itself is vitest.config.ts.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    watch: false,
  },
});
