// TensorRT-LLM's route on the real local SLURM cluster: a config whose script is not the simulator's
// goes, with the default launcher `auto`, through `python3 $SCRIPT_DIR/submit.py -c <config> --log-dir
// <job dir>` (executor slurm here, ssh on the login node). The submit.py is our own stand-in with the
// same contract (tests/fixtures/scripts/submit-py/): it calls sbatch with positional arguments to its
// job script, which records them and then serves the benchmark with the simulator. Asserted: the job
// script really received the arguments, the job carries the write-ahead token (our sbatch shim), and a
// run killed with SIGKILL right after submit.py's sbatch is reconciled by the rerun: one job, adopted,
// none twice.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIM_JOB_IDS_FILE, submitControlDir } from '../../src/jobdir/files.js';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { clusterJobs, installSbatchHook, lines } from './helpers/sbatch-hook.js';
import { readLedger, startSuite, type SuiteRun } from './helpers/suite-run.js';

const LAUNCHER_DIR = path.join(repoRoot, 'tests/fixtures/scripts/submit-py');
const TEMPLATE = path.join(repoRoot, 'tests/fixtures/suites/short/disagg/stress/short-1.yaml');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One config in a fresh tree: the short simulator config turned into a launcher-script config. */
function writeConfig(name: string, extraArgs?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'submit-py-configs-'));
  const stress = path.join(dir, 'disagg/stress');
  fs.mkdirSync(stress, { recursive: true });
  const template = fs.readFileSync(TEMPLATE, 'utf8');
  const at = template.indexOf('simulator:');
  let text = template
    .slice(0, at)
    .replaceAll('script_file: disagg-sim.slurm', 'script_file: fake_disaggr.slurm')
    .replace("concurrency_list: '1 2 4'", "concurrency_list: '1'")
    // The lab runs SLURM 22.05, which has no --segment (submit.py adds it unless told not to).
    .replace("job_time: '00:05:00'", `job_time: '00:05:00'\n  set_segment: false`);
  if (extraArgs) text = text.replace('set_segment: false', `set_segment: false\n  extra_args: ${extraArgs}`);
  text += `environment:\n  trtllm_repo: ${repoRoot}\n`;
  if (at < 0 || !text.includes('fake_disaggr.slurm') || !text.includes("concurrency_list: '1'"))
    throw new Error(`${TEMPLATE} changed: the submit.py test cannot derive its config`);
  fs.writeFileSync(path.join(stress, `${name}.yaml`), text);
  return dir;
}

function plain(run: SuiteRun): string {
  return run.output().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

/** The env of a run: executor slurm, SCRIPT_DIR holding submit.py, the launcher left at its default. */
function runEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { DISAGG_EXECUTOR: 'slurm', DISAGG_BATCH_SIZE: '0', SCRIPT_DIR: LAUNCHER_DIR, ...extra };
}

function squeueField(jobId: string, field: string): string {
  const r = spawnSync('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', field], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(() => {
  requireClusterEnv();
});

describe('launcher auto on the local SLURM cluster: submit.py for a launcher script', () => {
  it.each(['slurm', 'ssh'] as const)(
    '%s executor: submit.py submits the job; its script receives the arguments; the job carries the token',
    { timeout: 300_000 },
    async (executor) => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'submit-py-out-'));
      const env = runEnv({ DISAGG_EXECUTOR: executor });
      let jobBase = out;
      if (executor === 'ssh') {
        // The login node is this machine as the lab's user: SCRIPT_DIR is the same folder there.
        const cluster = requireClusterEnv();
        jobBase = path.posix.join(cluster.DISAGG_REMOTE_DIR, path.basename(out));
        fs.mkdirSync(jobBase, { recursive: true });
        const owner = fs.statSync(cluster.DISAGG_REMOTE_DIR);
        fs.chownSync(jobBase, owner.uid, owner.gid);
        env.DISAGG_REMOTE_DIR = jobBase;
      }
      const run = startSuite(writeConfig('spy-1'), out, env);
      const code = await run.exited;
      const output = plain(run);
      expect(code, output).toBe(0);
      expect(output).toMatch(/Tests\s+1 passed \(1\)/);

      // The logs came back here (for ssh from the job dir on the login node, which the arguments name).
      const localDir = fs.realpathSync(path.join(out, 'slurm_logs', 'disagg_stress_spy-1'));
      const args = lines(path.join(localDir, 'job_args.txt'));
      const jobDir = executor === 'slurm' ? localDir : (args[args.indexOf('--full-logdir') + 1] ?? '');
      expect(jobDir.startsWith(`${jobBase}/`), jobDir).toBe(true);
      const control = submitControlDir(jobDir);
      expect(args).toEqual([
        '--num-ctx-servers',
        '1',
        '--num-gen-servers',
        '1',
        '--concurrency-list',
        '1',
        '--isl',
        '256',
        '--osl',
        '256',
        '--trtllm-repo',
        repoRoot,
        '--full-logdir',
        jobDir,
        '--config',
        path.join(control, 'config.yaml'),
      ]);
      // submit.py wrote the worker configs into the log dir it recreated.
      expect(fs.readFileSync(path.join(localDir, 'gen_config.yaml'), 'utf8')).toContain(
        'tensor_parallel_size: 4',
      );
      const ledger = readLedger(out);
      const jobId = ledger?.jobs[0]?.jobId ?? '';
      expect(ledger?.jobs.map((j) => [j.testId, j.executor])).toEqual([['disagg_stress_spy-1', executor]]);
      // The shim recorded the job and gave it the token (reconcile's squeue %k finds it).
      expect(lines(path.join(control, SHIM_JOB_IDS_FILE))).toEqual([jobId]);
      expect(squeueField(jobId, '%k')).toMatch(/^dsg-\S+$/);
    },
  );

  let hookBin: string | undefined;
  afterAll(() => {
    if (hookBin) fs.rmSync(path.join(hookBin, 'sbatch'), { force: true });
  });

  it(
    'a run killed with SIGKILL right after submit.py’s sbatch: the rerun adopts the job, none twice',
    { timeout: 600_000 },
    async () => {
      const lab = process.env.LOCAL_CLUSTER_DIR;
      if (!lab)
        throw new Error('LOCAL_CLUSTER_DIR is not set: start the cluster with scripts/local-cluster.sh');
      hookBin = path.join(lab, 'hook-bin');
      if (!fs.existsSync(hookBin))
        throw new Error(`${hookBin} is missing: restart the cluster (scripts/local-cluster.sh creates it)`);
      installSbatchHook(hookBin);
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'submit-py-kill-'));
      const hook = fs.mkdtempSync(path.join(os.tmpdir(), 'submit-py-hook-'));
      fs.writeFileSync(path.join(out, '.sbatch-hook'), hook);
      // The job waits until the rerun, so the killed run cannot have consumed it.
      const configDir = writeConfig('spy-kill', '--begin=now+1hour');
      const env = runEnv({ PATH: `${hookBin}:${process.env.PATH ?? ''}` });

      fs.writeFileSync(path.join(hook, 'arm'), 'after');
      const killed = startSuite(configDir, out, env);
      const signal = path.join(hook, 'signal');
      for (let i = 0; i < 1800 && !fs.existsSync(signal) && killed.child.exitCode === null; i++)
        await sleep(50);
      killed.child.kill('SIGKILL');
      await killed.exited;
      expect(fs.existsSync(signal), `the hook never signalled; run output:\n${plain(killed)}`).toBe(true);
      fs.writeFileSync(path.join(hook, 'release'), '');
      // The killed run left its intent and no job entry: only reconcile can find the job.
      const before = readLedger(out);
      expect(before?.intents?.map((i) => i.testId)).toEqual(['disagg_stress_spy-kill']);
      expect(before?.jobs ?? []).toEqual([]);
      const made = await waitForJobs(out, 1);
      const calls = lines(path.join(hook, 'calls')).length;

      const upd = spawnSync('scontrol', ['update', `JobId=${made[0]?.id ?? ''}`, 'StartTime=now'], {
        encoding: 'utf8',
      });
      expect(upd.status, upd.stderr).toBe(0);
      fs.writeFileSync(path.join(hook, 'arm'), 'final');
      const rerun = startSuite(configDir, out, env);
      const code = await rerun.exited;
      const output = plain(rerun);
      expect(code, output).toBe(0);
      expect(output).toMatch(/Tests\s+1 passed \(1\)/);
      expect(lines(path.join(hook, 'calls')), 'sbatch calls of the rerun').toHaveLength(calls);
      const jobs = clusterJobs(out);
      expect(jobs.map((j) => [j.id, j.name, j.state])).toEqual([
        [made[0]?.id, 'disagg-disagg_stress_spy-kill', 'COMPLETED'],
      ]);
      const ledger = readLedger(out);
      expect(ledger?.intents ?? []).toEqual([]);
      expect(ledger?.jobs.map((j) => j.jobId)).toEqual([made[0]?.id]);
    },
  );
});

/** The cluster's jobs under `base`, once there are `n` (the killed run's sbatch may still be finishing). */
async function waitForJobs(base: string, n: number): Promise<Array<{ id: string; name: string }>> {
  for (let i = 0; i < 200; i++) {
    const jobs = clusterJobs(base);
    if (jobs.length >= n) return jobs;
    await sleep(100);
  }
  throw new Error(`no job under ${base} after the killed run`);
}
