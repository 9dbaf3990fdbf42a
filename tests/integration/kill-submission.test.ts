// kill -9 of `vitest run` at every step of submission (issue 12), on the real local SLURM cluster, with
// the slurm and the ssh executor. An sbatch wrapper first on PATH (the vitest process's PATH for
// 'slurm'; the lab's sshd puts `$LOCAL_CLUSTER_DIR/hook-bin` first for 'ssh') signals before and after the
// real call; the test then kills vitest with SIGKILL — triggered by that event, not by a timer. A chain
// per executor alternates runs killed before and after their first sbatch, each rerun adopting what the
// killed one made, until every test has its job; then a final run completes. Jobs wait
// (`--begin=now+1hour`) until the final run, so no test can consume a job mid-chain.
// Every correct outcome passes: an sbatch already under way when its run was killed may still finish
// (over SSH the login node runs it to the end), and the rerun then adopts that job instead of calling
// sbatch itself (issue 21). Asserted after every kill: never two jobs for one test; after the chain: one
// job per test in the cluster, none left after the final run, the final run submits nothing, no
// duplicate CSV row, every test passed.
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

/** How a killed run ended: at the armed sbatch call, or with every test's job adopted (nothing to submit). */
type Outcome = 'signalled' | 'adopted';

/** Every test has a job in the ledger and no submission is in doubt: this run will not call sbatch. */
function allAdopted(out: string): boolean {
  const ledger = readLedger(out);
  if (!ledger || (ledger.intents ?? []).length) return false;
  const tests = new Set(ledger.jobs.map((j) => j.testId));
  return TEST_IDS.every((id) => tests.has(id));
}

/**
 * One run, killed with SIGKILL when the wrapper signals `mode` (before/after the run's first sbatch), or
 * once its ledger shows every test's job adopted. The bound is a safety net for a wedged run only.
 */
async function killedRun(c: Chain, mode: 'before' | 'after', step: string): Promise<Outcome> {
  for (const f of ['claimed', 'release', 'signal'])
    fs.rmSync(path.join(c.hook, f), { recursive: true, force: true });
  fs.writeFileSync(path.join(c.hook, 'arm'), mode);
  const run = startSuite(configDir, c.out, c.env);
  const signal = path.join(c.hook, 'signal');
  const until = Date.now() + 600_000;
  let outcome: Outcome | undefined;
  while (Date.now() < until && run.child.exitCode === null) {
    if (fs.existsSync(signal)) outcome = 'signalled';
    else if (allAdopted(c.out)) outcome = 'adopted';
    if (outcome) break;
    await sleep(50);
  }
  run.child.kill('SIGKILL');
  await run.exited;
  if (!outcome)
    throw new Error(
      `${c.executor} ${step}: the run ${run.child.exitCode === null ? 'neither called sbatch nor adopted every job' : 'exited'} ` +
        `before the wrapper signalled; run output:\n${run.output()}`,
    );
  if (outcome === 'signalled') {
    // Calls of the killed run that start late must not take the next run's armed step.
    fs.appendFileSync(
      path.join(c.hook, 'dead-runs'),
      fs.readFileSync(path.join(c.hook, 'claimed/run'), 'utf8'),
    );
  }
  // Only now may the held sbatch calls go on (and end: the process that waited for them is gone).
  fs.writeFileSync(path.join(c.hook, 'release'), '');
  return outcome;
}

/** The cluster's jobs of this chain; fails on a test with two jobs. */
function jobsOnce(c: Chain, step: string): Array<{ id: string; name: string; state: string }> {
  const jobs = clusterJobs(c.jobBase);
  const names = jobs.map((j) => j.name);
  expect(names.length, `${c.executor} ${step}: ${names.join(', ')}`).toBe(new Set(names).size);
  return jobs;
}

async function chain(c: Chain): Promise<void> {
  const kills = { before: 0, after: 0, adopted: 0 };
  for (let k = 1; jobsOnce(c, `before step ${k}`).length < N; k++) {
    // Each step makes at least one job (an 'after' kill does), so 2·N steps are more than enough.
    expect(k, `${c.executor}: the chain made no progress`).toBeLessThanOrEqual(2 * N);
    const had = jobsOnce(c, `before step ${k}`).length;
    const before = await killedRun(c, 'before', `step ${k}, before sbatch`);
    kills[before === 'signalled' ? 'before' : 'adopted']++;
    // A kill before the call never loses a job; a late sbatch of an earlier run may add one.
    expect(jobsOnce(c, `step ${k}, killed before sbatch`).length).toBeGreaterThanOrEqual(had);
    if (before === 'adopted') continue;
    const mid = jobsOnce(c, `step ${k}, before the 'after' run`).length;
    const after = await killedRun(c, 'after', `step ${k}, after sbatch`);
    kills[after === 'signalled' ? 'after' : 'adopted']++;
    const now = jobsOnce(c, `step ${k}, killed after sbatch`).length;
    if (after === 'signalled')
      expect(now, `${c.executor} step ${k}: the signalled sbatch made a job`).toBeGreaterThan(mid);
  }
  // The chain really killed runs at both points (and says how often an sbatch finished after its kill).
  console.info(`${c.executor}: kills ${JSON.stringify(kills)}`);
  expect(kills.before, JSON.stringify(kills)).toBeGreaterThan(0);
  expect(kills.after, JSON.stringify(kills)).toBeGreaterThan(0);
  const made = jobsOnce(c, 'after the chain').map((j) => j.id);
  const calls = lines(path.join(c.hook, 'calls')).length;
  // The final run: held jobs may start now; it must adopt all 8 and submit nothing.
  const upd = spawnSync('scontrol', ['update', `JobId=${made.join(',')}`, 'StartTime=now'], {
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
  expect(jobs.map((j) => j.id).sort()).toEqual([...made].sort());
  expect(
    jobs.filter((j) => j.state !== 'COMPLETED'),
    'jobs left',
  ).toEqual([]);
  const ledger = readLedger(c.out);
  expect(ledger?.intents ?? []).toEqual([]);
  expect(ledger?.jobs.map((j) => j.jobId).sort()).toEqual([...made].sort());

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
    '%s executor: killed before and after each sbatch until every test has its job; no job twice, none left, no CSV row twice',
    { timeout: 1_800_000 },
    async (executor) => {
      await chain(newChain(executor));
    },
  );
});
