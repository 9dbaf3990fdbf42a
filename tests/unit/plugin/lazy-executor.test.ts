// The plugin's executor is created on first use; it must pass every optional capability on, or the
// broker silently loses it (write-ahead reconcile once did: a rerun submitted adopted jobs again).
import { describe, expect, it } from 'vitest';
import type { Executor, ReconciledJob } from '../../../src/executors/types.js';
import { lazyExecutor } from '../../../src/plugin/lazy-executor.js';

function fake(withReconcile: boolean): Executor {
  const base: Executor = {
    kind: 'slurm',
    submit: async () => ({ jobId: '1', testId: 't', jobDir: '/d', submittedAt: '' }),
    poll: async () => new Map(),
    cancel: async () => undefined,
    scanEarlyFailure: async () => undefined,
    fetchLogs: async () => undefined,
    close: async () => undefined,
  };
  if (!withReconcile) return base;
  return {
    ...base,
    reconcile: async (tokens) =>
      new Map<string, ReconciledJob>(tokens.map((t) => [t, { jobId: `job-${t}`, state: 'PENDING' }])),
  };
}

describe('lazyExecutor', () => {
  it('forwards reconcile to the executor it creates', async () => {
    let created = 0;
    const lazy = lazyExecutor('slurm', async () => {
      created++;
      return fake(true);
    });
    expect(created).toBe(0);
    const found = await lazy.reconcile?.(['a', 'b']);
    expect(created).toBe(1);
    expect(found && [...found.keys()]).toEqual(['a', 'b']);
    expect(found?.get('a')).toEqual({ jobId: 'job-a', state: 'PENDING' });
  });

  it('says "cannot tell" (undefined) when the executor has no reconcile', async () => {
    const lazy = lazyExecutor('custom', async () => fake(false));
    expect(await lazy.reconcile?.(['a'])).toBeUndefined();
  });
});
