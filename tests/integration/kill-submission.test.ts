// kill -9 of `vitest run` at every step of submission (issue 12), on the real local SLURM cluster, with
// the slurm and the ssh executor. An sbatch wrapper first on PATH (the vitest process's PATH for
// 'slurm'; the lab's sshd puts `$LOCAL_CLUSTER_DIR/hook-bin` first for 'ssh') signals before and after the
// real call; the test then kills vitest with SIGKILL — triggered by that event, not by a timer. A chain
// per executor: run 1 is killed before the 1st sbatch, its rerun after the 1st, the next before the 2nd
// (the 1st adopted), … up to after the 8th; then a final run completes. Jobs wait (`--begin=now+1hour`)
// until the final run, so no test can consume a job mid-chain. Asserted: one job per test in the cluster,
// none left after the final run, no duplicate CSV row, every test passed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { clusterJobs, installSbatchHook, lines } from './helpers/sbatch-hook.js';
import { readLedger, startSuite } from './helpers/suite-run.js';

const N = 8;
const TEMPLATE = path.join(repoRoot, 'tests/fixtures/suites/short/disagg/stress/short-1.yaml');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Chain {
  executor: 'slurm' | 'ssh';
  out: string;
  /** Where job dirs live (the output dir for 'slurm', a remote base dir for 'ssh'). */
  jobBase: string;
  hook: string;
  env: Record<string, string>;
}

let hookBin: string;
let configDir: string;

function writeConfigs(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-configs-'));
  const stress = path.join(dir, 'disagg/stress');
  fs.mkdirSync(stress, { recursive: true });
  const text = fs
    .readFileSync(TEMPLATE, 'utf8')
    .replace("job_time: '00:05:00'", "job_time: '00:05:00'\n  extra_args: --begin=now+1hour")
    .replace("concurrency_list: '1 2 4'", "concurrency_list: '1'");
  if (!text.includes('--begin') || !text.includes("concurrency_list: '1'"))
    throw new Error(`${TEMPLATE} changed: the kill test cannot derive its configs`);
  for (let i = 1; i <= N; i++) fs.writeFileSync(path.join(stress, `kill-${i}.yaml`), text);
  return dir;
}

const TEST_IDS = Array.from({ length: N }, (_, i) => `disagg_stress_kill-${i + 1}`);

/** One run, killed with SIGKILL when the wrapper signals `mode` (before/after the run's first sbatch). */
async function killedRun(c: Chain, mode: 'before' | 'after', step: string): Promise<void> {
  for (const f of ['claimed', 'release', 'signal'])
    fs.rmSync(path.join(c.hook, f), { recursive: true, force: true });
  fs.writeFileSync(path.join(c.hook, 'arm'), mode);
  const run = startSuite(configDir, c.out, c.env);
  const signal = path.join(c.hook, 'signal');
  for (let i = 0; i < 1800 && !fs.existsSync(signal) && run.child.exitCode === null; i++) await sleep(50);
  if (!fs.existsSync(signal)) {
    run.child.kill('SIGKILL');
    throw new Error(`${c.executor} ${step}: the wrapper never signalled; run output:\n${run.output()}`);
  }
  run.child.kill('SIGKILL');
  await run.exited;
  // Calls of the killed run that start late must not take the next run's armed step.
  fs.appendFileSync(
    path.join(c.hook, 'dead-runs'),
    fs.readFileSync(path.join(c.hook, 'claimed/run'), 'utf8'),
  );
  // Only now may the held sbatch calls go on (and end: the process that waited for them is gone).
  fs.writeFileSync(path.join(c.hook, 'release'), '');
}

async function chain(c: Chain): Promise<void> {
  for (let k = 1; k <= N; k++) {
    await killedRun(c, 'before', `before sbatch #${k}`);
    expect(lines(path.join(c.hook, 'submitted')), `${c.executor}: jobs before sbatch #${k}`).toHaveLength(
      k - 1,
    );
    await killedRun(c, 'after', `after sbatch #${k}`);
    expect(lines(path.join(c.hook, 'submitted')), `${c.executor}: jobs after sbatch #${k}`).toHaveLength(k);
    // Never a second job for a test: each run adopted what the killed one had made.
    const names = clusterJobs(c.jobBase).map((j) => j.name);
    expect(names.length, `${c.executor} after sbatch #${k}: ${names.join(', ')}`).toBe(new Set(names).size);
  }
  const submitted = lines(path.join(c.hook, 'submitted')).map((l) => l.split(' ')[0] as string);
  const calls = lines(path.join(c.hook, 'calls')).length;
  // The final run: held jobs may start now; it must adopt all 8 and submit nothing.
  const upd = spawnSync('scontrol', ['update', `JobId=${submitted.join(',')}`, 'StartTime=now'], {
    encoding: 'utf8',
  });
  expect(upd.status, upd.stderr).toBe(0);
  fs.writeFileSync(path.join(c.hook, 'arm'), 'final');
  const run = startSuite(configDir, c.out, c.env);
  const code = await run.exited;
  // Without colour codes.
  const output = run.output().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  expect(code, output).toBe(0);
  expect(output).toMatch(new RegExp(`Tests\\s+${N} passed \\(${N}\\)`));
  expect(lines(path.join(c.hook, 'calls')), 'sbatch calls of the final run').toHaveLength(calls);

  const jobs = clusterJobs(c.jobBase);
  expect(jobs.map((j) => j.name).sort()).toEqual(TEST_IDS.map((id) => `disagg-${id}`).sort());
  expect(jobs.map((j) => j.id).sort()).toEqual([...submitted].sort());
  expect(
    jobs.filter((j) => j.state !== 'COMPLETED'),
    'jobs left',
  ).toEqual([]);
  const ledger = readLedger(c.out);
  expect(ledger?.intents ?? []).toEqual([]);
  expect(ledger?.jobs.map((j) => j.jobId).sort()).toEqual([...submitted].sort());

  const csv = Papa.parse<Record<string, string>>(
    fs.readFileSync(path.join(c.out, 'perf_script_test_results.csv'), 'utf8'),
    { header: true, skipEmptyLines: true },
  );
  const keys = csv.data.map((r) => `${r.test_name}|${r.metric_type}`);
  expect(new Set(keys).size, 'duplicate CSV rows').toBe(keys.length);
  // 8 tests × 1 concurrency × 2 default metrics.
  expect(keys).toHaveLength(N * 2);
}

function newChain(executor: 'slurm' | 'ssh'): Chain {
  const cluster = requireClusterEnv();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `kill-${executor}-`));
  const hook = fs.mkdtempSync(path.join(os.tmpdir(), `kill-hook-${executor}-`));
  // The ssh executor's wrapper runs as the cluster user.
  fs.chmodSync(hook, 0o777);
  const env: Record<string, string> = { DISAGG_EXECUTOR: executor, DISAGG_BATCH_SIZE: '0' };
  let jobBase = out;
  if (executor === 'slurm') {
    env.PATH = `${hookBin}:${process.env.PATH ?? ''}`;
  } else {
    jobBase = path.posix.join(cluster.DISAGG_REMOTE_DIR, path.basename(out));
    fs.mkdirSync(jobBase, { recursive: true });
    const owner = fs.statSync(cluster.DISAGG_REMOTE_DIR);
    fs.chownSync(jobBase, owner.uid, owner.gid);
    env.DISAGG_REMOTE_DIR = jobBase;
  }
  fs.writeFileSync(path.join(jobBase, '.sbatch-hook'), hook);
  return { executor, out, jobBase, hook, env };
}

beforeAll(() => {
  requireClusterEnv();
  const lab = process.env.LOCAL_CLUSTER_DIR;
  if (!lab) throw new Error('LOCAL_CLUSTER_DIR is not set: start the cluster with scripts/local-cluster.sh');
  hookBin = path.join(lab, 'hook-bin');
  if (!fs.existsSync(hookBin))
    throw new Error(`${hookBin} is missing: restart the cluster (scripts/local-cluster.sh creates it)`);
  installSbatchHook(hookBin);
  configDir = writeConfigs();
});

afterAll(() => {
  if (hookBin) fs.rmSync(path.join(hookBin, 'sbatch'), { force: true });
});

describe('kill -9 at every step of submission, then a rerun', () => {
  it.each(['slurm', 'ssh'] as const)(
    '%s executor: before and after each of 8 sbatch calls; no job twice, none left, no CSV row twice',
    { timeout: 900_000 },
    async (executor) => {
      await chain(newChain(executor));
    },
  );
});
