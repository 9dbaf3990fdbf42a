// The SLURM side of write-ahead submission: the token reaches sbatch as --comment (the job name stays),
// and reconcile finds the jobs of many tokens with ONE squeue over the user's jobs (+ sacct for the rest).
import { describe, expect, it } from 'vitest';
import { renderSubmitCommand } from '../../../src/executors/sbatch.js';
import { SlurmExecutor } from '../../../src/executors/slurm.js';
import { parseReconcileRows } from '../../../src/executors/slurm-state.js';
import { ScriptedHost } from './scripted-host.js';

const T1 = 'dsg-20261129-071200-ab12-1-0123abcd';
const T2 = 'dsg-20261129-071200-ab12-2-4567ef01';
const T3 = 'dsg-20261129-071200-ab12-3-89abcdef';

describe('write-ahead token on SLURM', () => {
  it('is passed as --comment (shell-safe: the token has no special characters) after the unchanged job name', () => {
    const cmd = renderSubmitCommand({
      config: { slurm: { script_file: 'disagg-sim.slurm', job_name: 'my job' } },
      testId: 't',
      jobDir: '/w/t',
      timeLimitMs: 60_000,
      scriptPath: '/w/t/disagg-sim.slurm',
      configPath: '/w/t/config.yaml',
      comment: T1,
    });
    expect(cmd.argv).toContain('--job-name=my job');
    expect(cmd.argv).toContain(`--comment=${T1}`);
    expect(cmd.commandLine).toContain(` --comment=${T1} `);
  });

  it('rows match only on the whole last field; a work dir with | does not confuse them', () => {
    const rows = parseReconcileRows(
      [
        `11|RUNNING|/w/a|b|${T1}`,
        `12|PENDING|/w/c|not-${T2}`,
        `13|CANCELLED by 0|/w/d|${T3}`,
        `12_1|RUNNING|/w/e|${T2}`,
        '',
      ].join('\n'),
      new Set([T1, T2, T3]),
    );
    expect(rows).toEqual([
      { token: T1, job: { jobId: '11', state: 'RUNNING', jobDir: '/w/a|b' } },
      { token: T3, job: { jobId: '13', state: 'CANCELLED', jobDir: '/w/d' } },
    ]);
  });

  it('one squeue by user for all tokens, then one sacct for those squeue forgot', async () => {
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue')) return { code: 0, stdout: `21|RUNNING|/w/t1|${T1}\n`, stderr: '' };
      if (c.startsWith('sacct')) return { code: 0, stdout: `22|COMPLETED|/w/t2|${T2}\n`, stderr: '' };
      return { code: 1, stdout: '', stderr: 'unexpected' };
    });
    const found = await new SlurmExecutor({ host, kind: 'ssh' }).reconcile([T1, T2, T3]);
    // First: the wait for a killed run's submit commands still running (see slurm-orphan-submit.test.ts).
    expect(host.calls[0]).toMatch(/pgrep -u "\$\(id -un\)" -f -- '\[d\]sg-20261129-071200-ab12-1-0123abcd\|/);
    expect(host.calls.slice(1)).toEqual([
      `squeue -h -t all -u "$(id -un)" -o '%i|%T|%Z|%k'`,
      `sacct -n -P -X -u "$(id -un)" -S now-7days -o JobID,State,WorkDir,Comment`,
    ]);
    expect(found && Object.fromEntries(found)).toEqual({
      [T1]: { jobId: '21', state: 'RUNNING', jobDir: '/w/t1' },
      [T2]: { jobId: '22', state: 'COMPLETED', jobDir: '/w/t2' },
    });
  });

  it('a failing squeue is an error, never "no job" (that would submit it twice)', async () => {
    const host = new ScriptedHost(() => ({
      code: 1,
      stdout: '',
      stderr: 'Unable to contact slurm controller',
    }));
    await expect(new SlurmExecutor({ host }).reconcile([T1])).rejects.toThrow(
      /squeue failed \(exit 1\): Unable to contact slurm controller/,
    );
  });

  it('without accounting, squeue alone answers', async () => {
    const host = new ScriptedHost(() => ({ code: 0, stdout: '', stderr: '' }));
    const found = await new SlurmExecutor({ host, accounting: false }).reconcile([T1]);
    expect(found?.size).toBe(0);
    expect(host.calls.filter((c) => c.startsWith('squeue') || c.startsWith('sacct'))).toHaveLength(1);
  });
});
