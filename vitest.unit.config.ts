import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that break the shared local cluster on purpose (node DOWN, slurmctld restart, sshd killed) run
 * alone, after every other file, so no other test's job or SSH connection is caught in their faults.
 */
const LAB_FAULTS = ['tests/integration/faults-24.test.ts'];

// Our own tests (unit + integration). The stress suite itself is vitest.config.ts.
export default defineConfig({
  test: {
    // Hang guards, not speed limits: the suite must pass with a CPU hog beside it (speed is for scripts/bench).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    watch: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'tests',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...LAB_FAULTS],
        },
      },
      { extends: true, test: { name: 'lab-faults', include: LAB_FAULTS, sequence: { groupOrder: 1 } } },
    ],
  },
});
