// Ctrl-C and kill -9 during `vitest run`: SIGINT cancels every job of the run (none left 10 s later),
// and a rerun after kill -9 re-attaches to the crashed run's jobs instead of submitting them again.
// Runs on the local executor and on the real local SLURM cluster (started by `npm test`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { TERMINAL_STATES } from '../../src/types.js';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { readLedger, startSuite, waitForLedger } from './helpers/suite-run.js';

const HANG = path.join(repoRoot, 'tests/fixtures/suites/hang');
const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `gone()` (checked every 200 ms); `boundMs` is a safety net, not the expected time. */
async function waitGone(gone: () => boolean, boundMs: number): Promise<void> {
  for (let end = Date.now() + boundMs; !gone() && Date.now() < end;) await sleep(200);
}

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Jobs that squeue still lists (pending, running, completing) among `ids`. */
function liveInSqueue(ids: string[]): string[] {
  const r = spawnSync('squeue', ['-h', '-j', ids.join(','), '-o', '%i %T'], { encoding: 'utf8' });
  if (r.error) throw new Error(`squeue could not run: ${r.error.message}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

async function cancelCli(out: string): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(['cancel', '--output-path', out], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stdout += t),
    env: process.env,
    cwd: repoRoot,
  });
  return { code, stdout };
}

/** The run's output without colour codes. */
function plain(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

describe('SIGINT during vitest run', () => {
  it(
    'local executor: every job process group is gone 10 s later and the run ends',
    { timeout: 120_000 },
    async () => {
      const out = tmp('sigint-local');
      const run = startSuite(HANG, out, { DISAGG_EXECUTOR: 'local', DISAGG_BATCH_SIZE: '0' });
      const data = await waitForLedger(
        run,
        out,
        (d) => d.jobs.length === 3 && d.jobs.every((j) => j.state === 'RUNNING'),
        60_000,
      );
      run.child.kill('SIGINT');
      // The broker sends SIGTERM, then SIGKILL 5 s later: gone within about 10 s on a quiet machine; the
      // bound leaves room for a loaded one (the test waits for the event, not for a fixed time).
      await waitGone(() => data.jobs.every((j) => !groupAlive(j.pid as number)), 30_000);
      for (const job of data.jobs)
        expect(groupAlive(job.pid as number), `job ${job.jobId} still running`).toBe(false);
      const code = await Promise.race([run.exited, sleep(30_000).then(() => 'still running')]);
      expect(code, run.output()).not.toBe('still running');
      expect(code).not.toBe(0);
      // Each stopped test failed (not passed), saying why and which job was cancelled. Jobs start from
      // the global setup, so Ctrl-C can come before Vitest started a test: Vitest reports that one
      // skipped (its job is cancelled all the same, see the ledger below). No test passes.
      const output = plain(run.output());
      // e.g. `Tests  2 failed (3)`: the third test's file was not started (Vitest lists it skipped).
      const counts = /Tests\s+(\d+) failed(?: \| \d+ skipped)? \((\d+)\)/.exec(output);
      expect(counts, output).not.toBeNull();
      const [failed, total] = [Number(counts?.[1]), Number(counts?.[2])];
      expect(total).toBe(3);
      expect(output).not.toMatch(/\d+ passed/);
      expect(failed).toBeGreaterThan(0);
      const told = data.jobs.filter((job) =>
        output.includes(`cancelled by Ctrl-C (job ${job.jobId} cancelled)`),
      );
      expect(told.length, output).toBe(failed);
      // The ledger says so too, and `disagg cancel` finds nothing left to cancel.
      const ledger = readLedger(out);
      expect(ledger?.jobs.map((j) => [j.state, j.reason])).toEqual(
        Array.from({ length: 3 }, () => ['CANCELLED', 'cancelled by Ctrl-C']),
      );
      const { code: cancelCode, stdout } = await cancelCli(out);
      expect(cancelCode, stdout).toBe(0);
      expect(stdout).toMatch(/no live jobs/);
    },
  );

  it('slurm executor: no job of the run is left in squeue 10 s later', { timeout: 180_000 }, async () => {
    requireClusterEnv();
    const out = tmp('sigint-slurm');
    const run = startSuite(HANG, out, { DISAGG_EXECUTOR: 'slurm', DISAGG_BATCH_SIZE: '0' });
    const data = await waitForLedger(
      run,
      out,
      (d) => d.jobs.length === 3 && d.jobs.every((j) => j.state === 'RUNNING'),
      90_000,
    );
    const ids = data.jobs.map((j) => j.jobId);
    expect(liveInSqueue(ids)).toHaveLength(3);
    run.child.kill('SIGINT');
    await sleep(10_000);
    expect(liveInSqueue(ids), 'jobs still in squeue 10 s after SIGINT').toEqual([]);
    const code = await Promise.race([run.exited, sleep(60_000).then(() => 'still running')]);
    expect(code, run.output()).not.toBe('still running');
  });
});

describe('kill -9 of vitest, then a rerun', () => {
  it(
    're-attaches to the crashed run’s jobs: none is submitted twice and the rerun passes',
    { timeout: 300_000 },
    async () => {
      requireClusterEnv();
      const out = tmp('resume-slurm');
      const env = { DISAGG_EXECUTOR: 'slurm', DISAGG_BATCH_SIZE: '0' };
      const first = startSuite(SHORT, out, env);
      const submitted = await waitForLedger(first, out, (d) => d.jobs.length === 3, 90_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const firstIds = submitted.jobs.map((j) => j.jobId).sort();

      const second = startSuite(SHORT, out, env);
      const code = await second.exited;
      expect(code, second.output()).toBe(0);
      expect(second.output()).toMatch(/re-attached to job/);
      const data = readLedger(out);
      expect(data).toBeDefined();
      const jobs = data?.jobs ?? [];
      // One job per test, the crashed run's: nothing was submitted again.
      expect(jobs.map((j) => j.jobId).sort()).toEqual(firstIds);
      expect(new Set(jobs.map((j) => j.testId)).size).toBe(3);
      for (const j of jobs) expect(TERMINAL_STATES.has(j.state), `${j.testId}: ${j.state}`).toBe(true);
      expect(data?.runs.every((r) => r.endedAt)).toBe(true);
    },
  );
});

describe('disagg cancel after a crash', () => {
  it.each(['local', 'slurm'] as const)(
    '%s executor: cancels every live job the ledger lists',
    { timeout: 180_000 },
    async (executor) => {
      if (executor === 'slurm') requireClusterEnv();
      const out = tmp(`cancel-${executor}`);
      const run = startSuite(HANG, out, { DISAGG_EXECUTOR: executor, DISAGG_BATCH_SIZE: '0' });
      const data = await waitForLedger(
        run,
        out,
        (d) => d.jobs.length === 3 && d.jobs.every((j) => j.state === 'RUNNING'),
        90_000,
      );
      run.child.kill('SIGKILL');
      await run.exited;
      const { code, stdout } = await cancelCli(out);
      expect(code, stdout).toBe(0);
      for (const j of data.jobs) expect(stdout).toContain(`job ${j.jobId}`);
      await waitGone(
        () =>
          executor === 'local'
            ? data.jobs.every((j) => !groupAlive(j.pid as number))
            : liveInSqueue(data.jobs.map((j) => j.jobId)).length === 0,
        30_000,
      );
      if (executor === 'local') {
        for (const j of data.jobs)
          expect(groupAlive(j.pid as number), `job ${j.jobId} still running`).toBe(false);
      } else {
        expect(liveInSqueue(data.jobs.map((j) => j.jobId))).toEqual([]);
      }
      expect(readLedger(out)?.jobs.every((j) => j.state === 'CANCELLED')).toBe(true);
      // Nothing left to cancel the second time.
      expect((await cancelCli(out)).stdout).toMatch(/no live jobs/);
    },
  );
});
