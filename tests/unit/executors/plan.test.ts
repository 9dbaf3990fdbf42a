// plan() of the built-in executors, from ExecutorSettings alone: what would be uploaded and the exact
// command, without connecting anywhere.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsError } from '../../../src/errors.js';
import { createExecutor } from '../../../src/executors/index.js';
import { CONFIG_FILE, submitControlDir } from '../../../src/jobdir/files.js';
import type { JobSpec } from '../../../src/types.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-plan-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function realSpec(): JobSpec {
  return {
    testId: 'disagg_perf_real',
    configHash: 'h',
    config: {
      slurm: { script_file: 'disaggr_torch.slurm', job_time: '01:00:00' },
      hardware: { gpus_per_node: 4, num_ctx_servers: 1, num_gen_servers: 1 },
      worker_config: { ctx: { tensor_parallel_size: 4 }, gen: { tensor_parallel_size: 4 } },
    },
    configFile: path.join(work, 'real.yaml'),
    localLogDir: path.join(work, 'out', 'slurm_logs', 'disagg_perf_real'),
    timeLimitMs: 3_600_000,
  };
}

describe('plan()', () => {
  it("ssh: job dir under the remote work dir, the cluster's script dir, settings' partition; never connects", async () => {
    const settings = testExecutorSettings({
      kind: 'ssh',
      ssh: { host: 'login.invalid', username: 'alice' },
      homeDir: work,
      remoteScriptDir: '/lustre/scripts',
      partition: 'batch',
    });
    const ex = await createExecutor('ssh', settings, { planOnly: true, remoteHome: '/home/alice' });
    try {
      expect(ex.host.description).toContain('alice@login.invalid:22');
      const plan = await ex.plan(realSpec());
      expect(plan.launcher).toBe('sbatch');
      expect(plan.jobDir).toMatch(/^\/home\/alice\/vitest-disagg\/[^/]+-[0-9a-f]{8}\/disagg_perf_real$/);
      expect(plan.command.argv).toContain('--partition=batch');
      expect(plan.command.argv).toContain('--nodes=2');
      expect(plan.command.argv.at(-1)).toBe('/lustre/scripts/disaggr_torch.slurm');
      expect(plan.files.map((f) => f.name)).toContain(CONFIG_FILE);
    } finally {
      await ex.close();
    }
  });

  it('slurm: the launcher setting selects submit.py, its input in the control dir; a local script is uploaded', async () => {
    writeFileSync(path.join(work, 'disaggr_torch.slurm'), '#!/bin/bash\n');
    const submitPy = await createExecutor(
      'slurm',
      testExecutorSettings({ kind: 'slurm', launcher: 'submit.py', scriptDir: '/opt/launch' }),
    );
    const p1 = await submitPy.plan(realSpec());
    expect(p1.launcher).toBe('submit.py');
    expect(p1.controlDir).toBe(submitControlDir(p1.jobDir));
    expect(p1.command.commandLine).toBe(
      `python3 /opt/launch/submit.py -c ${path.join(p1.controlDir, CONFIG_FILE)} --log-dir ${p1.jobDir}`,
    );
    const sbatch = await createExecutor('slurm', testExecutorSettings({ kind: 'slurm' }));
    const p2 = await sbatch.plan(realSpec());
    expect(p2.jobDir).toBe(path.resolve(realSpec().localLogDir));
    expect(p2.files.find((f) => f.name === 'disaggr_torch.slurm')?.localPath).toBe(
      path.join(work, 'disaggr_torch.slurm'),
    );
    await Promise.all([submitPy.close(), sbatch.close()]);
  });

  it('an unknown executor name is a SettingsError naming the known ones', async () => {
    const err = await createExecutor('pbs', testExecutorSettings()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SettingsError);
    expect(String(err)).toMatch(/no executor registered for 'pbs' \(known: .*local.*slurm.*ssh/);
  });
});
