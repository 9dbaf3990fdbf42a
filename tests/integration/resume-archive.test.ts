// kill -9 of `vitest run` (local executor) on an output dir whose old jobs.json held every earlier job:
// the killed run migrated those into the runs' archives; the rerun re-attaches the killed run's jobs
// (none submitted twice) and every job of every earlier run is still in the ledger, once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, type LedgerData, type LedgerJob } from '../../src/broker/ledger.js';
import { repoRoot } from '../fixtures/paths.js';
import { startSuite, waitForLedger } from './helpers/suite-run.js';

const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');

/** 500 judged jobs of 10 ended runs, as an older version kept them in jobs.json. */
function seedOldLedger(out: string): LedgerJob[] {
  const jobs: LedgerJob[] = [];
  const runs: LedgerData['runs'] = [];
  for (let r = 0; r < 10; r++) {
    const runId = `20250101-00000${r}-abcd`;
    const at = new Date(Date.UTC(2025, 0, 1, 0, 0, r)).toISOString();
    runs.push({ id: runId, pid: 1, startedAt: at, endedAt: at });
    for (let i = 0; i < 50; i++)
      jobs.push({
        testId: `old_test_${i}`,
        configHash: 'h',
        executor: 'local',
        jobId: String(900_000 + r * 50 + i),
        jobDir: path.join(out, 'old', runId, String(i)),
        state: 'COMPLETED',
        exitCode: '0',
        runId,
        submittedAt: at,
        updatedAt: at,
        endedAt: at,
        consumed: true,
      });
  }
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'jobs.json'), JSON.stringify({ version: 1, runs, jobs }, null, 2));
  return jobs;
}

describe('kill -9 after the ledger migration, then a rerun (local executor)', () => {
  it('re-attaches the killed run’s jobs and keeps every earlier job', { timeout: 300_000 }, async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'resume-archive-'));
    const old = seedOldLedger(out);
    const env = { DISAGG_EXECUTOR: 'local', DISAGG_BATCH_SIZE: '0' };
    const first = startSuite(SHORT, out, env);
    const isNew = (j: LedgerJob) => !j.runId.startsWith('20250101-');
    const seen = await waitForLedger(first, out, (d) => d.jobs.filter(isNew).length === 3, 120_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.output()).toMatch(/moved 500 finished job entries of 10 earlier run\(s\)/);
    const killed = seen.jobs.filter(isNew);
    const unjudged = killed.filter((j) => !j.consumed);
    // Killed as soon as its jobs were recorded: seconds before any could be judged.
    expect(unjudged.length).toBeGreaterThan(0);

    const second = startSuite(SHORT, out, env);
    const code = await second.exited;
    expect(code, second.output()).toBe(0);
    expect(second.output()).toMatch(/can be re-attached/);

    const all = (await new Ledger(out).readAll()).jobs;
    const key = (j: LedgerJob) => `${j.testId}/${j.jobId}`;
    // Every earlier job, once.
    for (const j of old)
      expect(
        all.filter((x) => key(x) === key(j)),
        key(j),
      ).toHaveLength(1);
    // The killed run's jobs, once each; a job not yet judged at the kill was re-attached, not resubmitted.
    for (const j of killed)
      expect(
        all.filter((x) => key(x) === key(j)),
        key(j),
      ).toHaveLength(1);
    for (const j of unjudged)
      expect(all.filter((x) => isNew(x) && x.testId === j.testId).map((x) => x.jobId)).toEqual([j.jobId]);
    // Nothing live is left behind.
    const live = JSON.parse(fs.readFileSync(path.join(out, 'jobs.json'), 'utf8')) as LedgerData;
    expect(live.jobs.filter((j) => !j.consumed && !j.endedAt)).toEqual([]);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
