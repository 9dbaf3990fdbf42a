// plan() of the built-in executors, from ExecutorSettings alone: what would be uploaded and the exact
// command, without connecting anywhere.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SettingsError } from '../../../src/errors.js';
import { createExecutor } from '../../../src/executors/index.js';
import { CONFIG_FILE, SBATCH_SHIM, SBATCH_SHIM_DIR, submitControlDir } from '../../../src/jobdir/files.js';
import type { DisaggConfig, JobSpec } from '../../../src/types.js';
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
      // Declared to read the job dir, so sbatch starts it (auto would take submit.py).
      jobDirScripts: ['disaggr_torch.slurm'],
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

  it('slurm: auto selects submit.py for a real script: its input, the script and the shim in the control dir', async () => {
    writeFileSync(path.join(work, 'disaggr_torch.slurm'), '#!/bin/bash\n');
    const launch = path.join(work, 'launch');
    mkdirSync(launch);
    writeFileSync(path.join(launch, 'submit.py'), '# stand-in\n');
    const submitPy = await createExecutor(
      'slurm',
      testExecutorSettings({ kind: 'slurm', scriptDir: launch }),
    );
    const p1 = await submitPy.plan({ ...realSpec(), submitToken: 'tok-1' });
    expect(p1.launcher).toBe('submit.py');
    expect(p1.controlDir).toBe(submitControlDir(p1.jobDir));
    const shimDir = path.join(p1.controlDir, SBATCH_SHIM_DIR);
    expect(p1.command.commandLine).toBe(
      `PATH=${shimDir}:"$PATH" DISAGG_SUBMIT_TOKEN=tok-1 python3 ${launch}/submit.py -c ${path.join(p1.controlDir, CONFIG_FILE)} --log-dir ${p1.jobDir}`,
    );
    // The script goes next to the config, which names it by that absolute path (submit.py runs sbatch
    // from the control dir).
    const script = path.join(p1.controlDir, 'disaggr_torch.slurm');
    expect(p1.files.map((f) => f.remotePath)).toEqual([
      path.join(p1.controlDir, CONFIG_FILE),
      script,
      path.join(shimDir, SBATCH_SHIM),
    ]);
    const uploaded = parse(String(p1.files[0].content)) as DisaggConfig;
    expect(uploaded.slurm?.script_file).toBe(script);
    // What sbatch would take from settings and defaults, submit.py finds in the config.
    expect(uploaded.slurm).toMatchObject({ job_name: 'disagg-disagg_perf_real', job_time: '01:00:00' });
    expect(p1.workerConfigs).toEqual([
      { name: 'ctx_config.yaml', path: path.join(p1.jobDir, 'ctx_config.yaml'), writtenBy: 'submit.py' },
      { name: 'gen_config.yaml', path: path.join(p1.jobDir, 'gen_config.yaml'), writtenBy: 'submit.py' },
    ]);
    // Without submit.py there, the plan fails before anything is submitted, naming the variable.
    const missing = await createExecutor(
      'slurm',
      testExecutorSettings({ kind: 'slurm', scriptDir: work, scriptDirSource: `SCRIPT_DIR=${work}` }),
    );
    await expect(missing.plan(realSpec())).rejects.toThrow(
      `no submit.py at ${work}/submit.py (the folder comes from SCRIPT_DIR=${work})`,
    );
    const unset = await createExecutor('slurm', testExecutorSettings({ kind: 'slurm' }));
    await expect(unset.plan(realSpec())).rejects.toThrow(/SCRIPT_DIR .* is not set\. Fix: set SCRIPT_DIR/);
    // An explicit sbatch for it is refused with the reason.
    const refused = await createExecutor(
      'slurm',
      testExecutorSettings({ kind: 'slurm', launcher: 'sbatch' }),
    );
    await expect(refused.plan(realSpec())).rejects.toThrow(
      /launcher sbatch cannot start disaggr_torch\.slurm/,
    );
    await Promise.all([missing.close(), unset.close(), refused.close()]);
    const sbatch = await createExecutor(
      'slurm',
      testExecutorSettings({ kind: 'slurm', jobDirScripts: ['disaggr_torch.slurm'] }),
    );
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
