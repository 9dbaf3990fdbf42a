// A failed test's log dir is renamed `_ERROR`: paths under it in a step's error must name the renamed dir.
import { describe, expect, it } from 'vitest';
import { atFailurePaths } from '../../../fixtures/steps/job-step.js';

describe('atFailurePaths', () => {
  const dir = '/out/slurm_logs/runs/r1/disagg_stress_x';
  it('renames every path under the log dir in the message and the stack', () => {
    const err = new Error(`ENOENT: no such file or directory, open '${dir}/3_output_GEN_0.log'`);
    const out = atFailurePaths(err, dir, `${dir}_ERROR`) as Error;
    expect(out).toBe(err);
    expect(out.message).toBe(`ENOENT: no such file or directory, open '${dir}_ERROR/3_output_GEN_0.log'`);
    expect(out.stack?.split('\n')[0]).toBe(`Error: ${out.message}`);
  });
  it('leaves other errors and DEBUG_MODE (no rename) alone', () => {
    const err = new Error(`open '${dir}/a.log'`);
    expect((atFailurePaths(err, dir, dir) as Error).message).toBe(`open '${dir}/a.log'`);
    expect((atFailurePaths(err, dir, undefined) as Error).message).toBe(`open '${dir}/a.log'`);
    expect(atFailurePaths('text', dir, `${dir}_ERROR`)).toBe('text');
  });
});
