// 24 simulator jobs through the whole plugin (`vitest run`, ssh executor → sbatch on the local cluster)
// while the lab suffers, one after another: a node set DOWN with jobs on it, a slurmctld restart and
// sshd killed (with its open connections) for a while. Asserted: the run ends by itself; every test whose
// job SLURM ended as NODE_FAIL fails naming NODE_FAIL, every other test passes; each test was submitted
// exactly once (0 duplicates); no job is left in the queue; the perf CSV has every passed test's rows,
// each with 17 fields. Faults are triggered by the jobs' states (squeue), not by timers, and the lab is
// restored afterwards (also on failure). Runs on the default `npm test` cluster (4 nodes × 4 CPUs).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERF_CSV_NAME } from '../../src/results/csv.js';
import { requireClusterEnv } from './helpers/cluster.js';
import {
  jobsByName,
  killSshd,
  labFromEnv,
  restartSlurmctld,
  restoreLab,
  resumeNode,
  runningJobs,
  setNodeDown,
  startSshdAgain,
  type Lab,
  type RunningJob,
} from './helpers/lab-faults.js';
import { writeSimSuite } from './helpers/sim-configs.js';
import {
  assertionsOf,
  jsonReportArgs,
  readJsonReport,
  startSuite,
  type JsonAssertion,
  type JsonReport,
  type SuiteRun,
} from './helpers/suite-run.js';

const JOBS = 24;
/** How long sshd stays down (and its connections dropped). */
const SSHD_DOWN_MS = 12_000;
const RUN_TIMEOUT_MS = 170_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('24 jobs through a node failure, a slurmctld restart and an sshd outage (ssh executor)', () => {
  const tag = `f24${randomBytes(2).toString('hex')}`;
  const stems = Array.from({ length: JOBS }, (_, i) => `${tag}-${String(i).padStart(2, '0')}`);
  const jobPrefix = `disagg-disagg_perf_${tag}-`;
  let lab: Lab;
  let out: string;
  let tests: string[];
  let report: JsonReport;
  let run: SuiteRun | undefined;
  const output = (): string => run?.output() ?? '';
  let exitCode: number | null = null;
  let downed: RunningJob[] = [];
  const faults: string[] = [];

  beforeAll(async () => {
    requireClusterEnv();
    lab = labFromEnv();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'faults-24-'));
    const configs = path.join(out, 'configs');
    // ~10 s jobs: long enough that the node failure finds jobs running, short enough for CI.
    tests = writeSimSuite(configs, stems, { timeScale: 0.1, concurrencies: '1 2', outputLength: 1024 });
    const json = path.join(out, 'report.json');
    run = startSuite(
      configs,
      path.join(out, 'output'),
      // 12 in flight: two full nodes' worth and more, without 16 simulators on 2 cores at once.
      { DISAGG_EXECUTOR: 'ssh', DISAGG_BATCH_SIZE: '12' },
      jsonReportArgs(json),
    );
    const { child, exited } = run;
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    try {
      // 1. A node DOWN while it runs some of our jobs: the busiest node, once at least 8 jobs run.
      let running: RunningJob[] = [];
      for (let i = 0; i < 600 && child.exitCode === null; i++) {
        running = runningJobs(lab, jobPrefix);
        if (running.length >= 8) break;
        await sleep(200);
      }
      expect(running.length, `never 8 jobs running at once; run output:\n${output()}`).toBeGreaterThanOrEqual(
        8,
      );
      const perNode = new Map<string, number>();
      for (const j of running) perNode.set(j.node, (perNode.get(j.node) ?? 0) + 1);
      const node = [...perNode.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
      downed = running.filter((j) => j.node === node);
      setNodeDown(lab, node, 'faults-24');
      faults.push(`node ${node} DOWN with ${downed.length} job(s)`);
      await resumeNode(lab, node);
      // 2. slurmctld restart while jobs run and others wait.
      await restartSlurmctld(lab);
      faults.push('slurmctld restarted');
      // 3. sshd and its connections gone for a while, with jobs still running.
      await killSshd(lab);
      faults.push('sshd killed');
      await sleep(SSHD_DOWN_MS);
      await startSshdAgain(lab);
      faults.push('sshd back');
      exitCode = await exited;
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
      await restoreLab(lab);
    }
    report = readJsonReport(json, exitCode, output());
    const byStatus = results().reduce<Record<string, number>>(
      (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
      {},
    );
    console.log(`faults-24: ${faults.join(', ')}; tests ${JSON.stringify(byStatus)}`);
  }, RUN_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    // Never leave the shared lab broken, whatever happened above.
    if (lab) await restoreLab(lab);
  }, 300_000);

  function results(): JsonAssertion[] {
    return assertionsOf(report).filter((a) => tests.includes(a.title));
  }

  it('injected every fault while jobs ran, and the run ended by itself', () => {
    expect(faults).toEqual([
      expect.stringMatching(/^node \S+ DOWN with \d+ job/),
      'slurmctld restarted',
      'sshd killed',
      'sshd back',
    ]);
    expect(downed.length).toBeGreaterThanOrEqual(1);
    expect(exitCode, output()).toBe(1); // the NODE_FAIL tests fail the run
    expect(results()).toHaveLength(JOBS);
  });

  it('each test was submitted once and no job is left in the queue', () => {
    const jobs = jobsByName(lab, jobPrefix);
    const perName = new Map<string, number>();
    for (const j of jobs) perName.set(j.name, (perName.get(j.name) ?? 0) + 1);
    const duplicated = [...perName.entries()].filter(([, n]) => n > 1);
    expect(duplicated).toEqual([]);
    expect(perName.size).toBe(JOBS);
    const left = jobs.filter((j) => /PENDING|RUNNING|COMPLETING|CONFIGURING|SUSPENDED/.test(j.state));
    expect(left).toEqual([]);
  });

  it('the jobs killed with the node fail naming NODE_FAIL; every other test passes', () => {
    const state = new Map(jobsByName(lab, jobPrefix).map((j) => [j.name, j.state]));
    const nodeFailed = [...state.entries()].filter(([, s]) => s === 'NODE_FAIL').map(([n]) => n);
    // A job on the node may just have finished before it went down; most did not.
    expect(nodeFailed.length).toBeGreaterThanOrEqual(1);
    for (const name of nodeFailed) expect(downed.map((j) => j.name)).toContain(name);
    for (const r of results()) {
      const failedOnNode = state.get(`disagg-${r.title}`) === 'NODE_FAIL';
      if (failedOnNode) {
        expect(r.status, r.title).toBe('failed');
        expect(r.failureMessages.join('\n'), r.title).toMatch(/NODE_FAIL/);
      } else {
        expect(r.status, `${r.title}: ${r.failureMessages.join('\n')}`).toBe('passed');
      }
    }
  });

  it('the perf CSV has every passed test and no torn row', () => {
    const csv = fs.readFileSync(path.join(out, 'output', PERF_CSV_NAME), 'utf8');
    const lines = csv.split('\n').filter((l) => l !== '');
    const header = lines[0]?.split(',') ?? [];
    expect(header).toHaveLength(17);
    for (const line of lines.slice(1)) expect(line.split(',').length, line).toBe(17);
    for (const r of results().filter((x) => x.status === 'passed')) {
      // 2 concurrencies × 2 default metrics
      expect(lines.filter((l) => l.includes(`[${r.title}]`)).length, r.title).toBe(4);
    }
  });
});
