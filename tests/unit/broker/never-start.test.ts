import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLive } from './ledger-files.js';
import { JobBroker, type BrokerSettings } from '../../../src/broker/broker.js';
import { Ledger } from '../../../src/broker/ledger.js';
import { NeverStartWatch, neverStartMessage } from '../../../src/broker/never-start.js';
import type { Executor, PendingExplanation } from '../../../src/executors/types.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import { FakeExecutor } from './fake-executor.js';

/** Jobs stay PENDING with a fixed reason per test id (`<reason>-…`); polls can be made to fail. */
class PendingExecutor extends FakeExecutor {
  cancelled: string[] = [];
  cancelCalls = 0;
  explained: string[] = [];
  failPolls = false;
  failCancel = false;
  explanation: PendingExplanation = {
    never: true,
    detail: 'job_time 00:05:00 exceeds partition short MaxTime 00:01:00',
  };
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    if (this.failPolls)
      throw new Error('squeue failed (exit 1): slurm_load_jobs error: Unable to contact slurm controller');
    const out = new Map<string, JobStatus>();
    for (const j of jobs) {
      const cancelled = this.cancelled.includes(j.jobId);
      out.set(j.jobId, {
        jobId: j.jobId,
        state: cancelled ? 'CANCELLED' : 'PENDING',
        reason: cancelled ? undefined : j.testId.split('-')[0],
      });
    }
    return out;
  }
  override async cancel(jobs: readonly SubmittedJob[]): Promise<void> {
    this.cancelCalls++;
    if (this.failCancel) throw new Error('scancel failed (exit 1): Unable to contact slurm controller');
    this.cancelled.push(...jobs.map((j) => j.jobId));
  }
  async explainPending(job: SubmittedJob, reason: string): Promise<PendingExplanation> {
    this.explained.push(`${job.jobId}:${reason}`);
    return this.explanation;
  }
  override async fetchLogs(): Promise<void> {}
  override async close(): Promise<void> {}
}

const SETTINGS: BrokerSettings = { maxJobsInFlight: 0, pollMinMs: 5, pollMaxMs: 10, resume: false };

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'never-start-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function broker(executor: Executor, settings: Partial<BrokerSettings> = {}) {
  const lines: string[] = [];
  const b = new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: { ...SETTINGS, ...settings },
    specFor: async (testId) => ({
      testId,
      configHash: `h-${testId}`,
      config: {},
      configFile: `/x/${testId}.yaml`,
      localLogDir: path.join(out, 'slurm_logs', testId),
      timeLimitMs: 60_000,
    }),
    log: (m) => lines.push(m),
  });
  return { b, lines };
}

describe('NeverStartWatch', () => {
  it('is due after the grace, restarts on a new reason, ignores waits and tells a hold once', () => {
    let now = 0;
    const w = new NeverStartWatch(60_000, () => now);
    expect(w.observe('1', 'PENDING', 'PartitionTimeLimit')?.kind).toBe('noticed');
    now = 59_999;
    expect(w.observe('1', 'PENDING', 'PartitionTimeLimit')).toBeUndefined();
    now = 60_000;
    expect(w.observe('1', 'PENDING', 'PartitionTimeLimit')?.kind).toBe('due');
    // A reason that changed starts the grace period again.
    expect(w.observe('1', 'PENDING', 'PartitionNodeLimit')?.kind).toBe('noticed');
    now = 100_000;
    expect(w.observe('1', 'PENDING', 'Priority')).toBeUndefined();
    now = 500_000;
    expect(w.observe('1', 'PENDING', 'Resources')).toBeUndefined();
    expect(w.observe('2', 'PENDING', 'JobHeldAdmin')?.kind).toBe('held');
    expect(w.observe('2', 'PENDING', 'JobHeldAdmin')).toBeUndefined();
    expect(w.observe('3', 'RUNNING', 'PartitionTimeLimit')).toBeUndefined();
  });

  it('says the reason, the limit, the grace and what to do', () => {
    expect(
      neverStartMessage(
        'PartitionTimeLimit',
        'job_time 00:05:00 exceeds partition short MaxTime 00:01:00',
        '60 s',
      ),
    ).toBe(
      'PENDING (PartitionTimeLimit): job_time 00:05:00 exceeds partition short MaxTime 00:01:00 — cancelled after 60 s; lower slurm.job_time or pick another partition',
    );
  });
});

describe('broker: never-startable jobs', () => {
  it('cancels a never-startable job after the grace and fails its test; a waiting job is left alone', async () => {
    const ex = new PendingExecutor();
    const { b, lines } = broker(ex, { neverStartGraceMs: 150 });
    const bad = b.run('PartitionTimeLimit-t');
    const waiting = b.run('Priority-t');
    await expect(bad).rejects.toThrow(
      /^job 100 PENDING \(PartitionTimeLimit\): job_time 00:05:00 exceeds partition short MaxTime 00:01:00 — cancelled after 0.2 s; lower slurm.job_time/,
    );
    expect(ex.cancelled).toEqual(['100']);
    expect(ex.explained).toEqual(['100:PartitionTimeLimit']);
    expect(lines.filter((l) => /can never start as submitted/.test(l))).toHaveLength(1);
    // The waiting job is still waiting after more ticks.
    await new Promise((r) => setTimeout(r, 300));
    expect(ex.cancelled).toEqual(['100']);
    const ledger = readLive(out) as {
      jobs: Array<{ jobId: string; state: string }>;
    };
    expect(ledger.jobs.find((j) => j.jobId === '100')?.state).toBe('CANCELLED');
    expect(ledger.jobs.find((j) => j.jobId === '101')?.state).toBe('PENDING');
    void waiting.catch(() => undefined);
    await b.close();
  });

  it('does not cancel when the scheduler says the job can start after all', async () => {
    const ex = new PendingExecutor();
    ex.explanation = { never: false };
    const { b } = broker(ex, { neverStartGraceMs: 0 });
    void b.run('ReqNodeNotAvail-t').catch(() => undefined);
    // Asked again on later ticks (the nodes may go down for good), never cancelled meanwhile.
    for (let end = Date.now() + 15_000; ex.explained.length < 2 && Date.now() < end;)
      await new Promise((r) => setTimeout(r, 5));
    expect(ex.explained.length).toBeGreaterThan(1);
    expect(ex.cancelled).toEqual([]);
    await b.close();
  });
});

/** Until the ledger lists `n` jobs (bounded): polls fail only once every job is live. */
async function untilRecorded(n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const data = readLive(out) as { jobs: unknown[] };
      if (data.jobs.length >= n) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the ledger never listed ${n} jobs`);
}

describe('broker: poll give-up', () => {
  it("after the budget, cancels the run's jobs and fails the tests saying so", async () => {
    const ex = new PendingExecutor();
    const { b, lines } = broker(ex, { pollGiveUpMs: 100 });
    const runs = [b.run('Priority-a'), b.run('Priority-b')];
    for (const r of runs) void r.catch(() => undefined);
    await untilRecorded(2);
    await new Promise((r) => setTimeout(r, 50));
    ex.failPolls = true;
    for (const r of runs)
      await expect(r).rejects.toThrow(
        /polling failed for [\d.]+ s \(squeue failed.*gave up; the job was cancelled/,
      );
    expect(ex.cancelled.sort()).toEqual(['100', '101']);
    expect(lines.some((l) => /^poll failed \(\d+ in a row, for [\d.]+ s of 0.1 s\)/.test(l))).toBe(true);
    expect(lines.some((l) => /cancelling this run's job\(s\) 100, 101/.test(l))).toBe(true);
    await b.close();
    expect(ex.cancelCalls).toBe(1);
  });

  it('when the cancel fails too, keeps the jobs in the ledger and names them and the command', async () => {
    const ex = new PendingExecutor();
    const { b, lines } = broker(ex, { pollGiveUpMs: 50 });
    const r = b.run('Priority-a');
    void r.catch(() => undefined);
    await untilRecorded(1);
    await new Promise((r) => setTimeout(r, 50));
    ex.failPolls = true;
    ex.failCancel = true;
    await expect(r).rejects.toThrow(/could not cancel job\(s\) 100 either \(scancel failed/);
    const left = lines.find((l) => l.startsWith('could not cancel'));
    expect(left).toContain(`npx disagg cancel --output-path ${out}`);
    expect(left).toContain(path.join(out, 'jobs.json'));
    await b.close();
    const ledger = readLive(out) as {
      jobs: Array<{ jobId: string; state: string; endedAt?: string }>;
    };
    // Still live in the ledger: `disagg cancel` will find it.
    expect(ledger.jobs[0]).toMatchObject({ jobId: '100', state: 'PENDING' });
    expect(ledger.jobs[0].endedAt).toBeUndefined();
  });
});
