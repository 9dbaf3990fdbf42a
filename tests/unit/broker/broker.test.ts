import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker, type BrokerSettings } from '../../../src/broker/broker.js';
import { Ledger } from '../../../src/broker/ledger.js';
import type { Executor } from '../../../src/executors/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../../../src/types.js';

/** An executor whose jobs finish after a fixed number of polls; it records every call. */
/** Wait until `cond` holds (the broker works on its own timers); the bound is only a safety net. */
async function until(cond: () => boolean | Promise<boolean>, what: string, boundMs = 15_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${boundMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Jobs the ledger lists in `state`. */
const inLedger = async (state?: string): Promise<number> =>
  (await new Ledger(out).readAll()).jobs.filter((j) => state === undefined || j.state === state).length;

class FakeExecutor implements Executor {
  readonly kind = 'slurm' as const;
  submitted: string[] = [];
  pollSizes: number[] = [];
  cancelled: string[] = [];
  maxLive = 0;
  private polls = new Map<string, number>();
  private n = 100;
  constructor(
    private readonly pollsToFinish = 3,
    private readonly finalState: JobStatus['state'] = 'COMPLETED',
  ) {}
  async submit(spec: JobSpec): Promise<SubmittedJob> {
    if (spec.testId.startsWith('bad')) throw new Error(`sbatch: error: invalid partition for ${spec.testId}`);
    const jobId = String(this.n++);
    this.submitted.push(spec.testId);
    this.polls.set(jobId, 0);
    const live = [...this.polls.values()].filter((p) => p < this.pollsToFinish).length;
    this.maxLive = Math.max(this.maxLive, live);
    return { jobId, testId: spec.testId, jobDir: spec.localLogDir, submittedAt: new Date().toISOString() };
  }
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    this.pollSizes.push(jobs.length);
    const out = new Map<string, JobStatus>();
    for (const j of jobs) {
      const p = (this.polls.get(j.jobId) ?? this.pollsToFinish) + 1;
      this.polls.set(j.jobId, p);
      const cancelled = this.cancelled.includes(j.jobId);
      out.set(j.jobId, {
        jobId: j.jobId,
        state: cancelled ? 'CANCELLED' : p >= this.pollsToFinish ? this.finalState : 'RUNNING',
        exitCode: '0:0',
      });
    }
    return out;
  }
  async cancel(jobs: readonly SubmittedJob[]): Promise<void> {
    this.cancelled.push(...jobs.map((j) => j.jobId));
  }
  /** Fatal line the early-failure scan reports for a test id. */
  fatal = new Map<string, string>();
  async scanEarlyFailure(job: SubmittedJob): Promise<string | undefined> {
    return this.fatal.get(job.testId);
  }
  async fetchLogs(): Promise<void> {}
  async close(): Promise<void> {}
}

const SETTINGS: BrokerSettings = { maxJobsInFlight: 0, pollMinMs: 5, pollMaxMs: 20, resume: true };

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-test-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function specFor(testId: string, hash = `hash-${testId}`): JobSpec {
  return {
    testId,
    configHash: hash,
    config: {},
    configFile: `/x/${testId}.yaml`,
    localLogDir: path.join(out, 'slurm_logs', testId),
    timeLimitMs: 60_000,
  };
}

function broker(executor: Executor, settings: Partial<BrokerSettings> = {}) {
  return new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: { ...SETTINGS, ...settings },
    specFor: async (id) => specFor(id),
  });
}

/** A ledger left by a run whose process is gone (kill -9), with job 555 of test t1 still running. */
async function seedCrashedRun(configHash: string): Promise<Ledger> {
  const dead = spawnSync('true').pid as number;
  const ledger = new Ledger(out);
  await ledger.update((d) => {
    d.runs.push({ id: 'run-old', pid: dead, startedAt: new Date().toISOString() });
    d.jobs.push({
      testId: 't1',
      configHash,
      executor: 'slurm',
      jobId: '555',
      jobDir: '/remote/t1',
      state: 'RUNNING',
      runId: 'run-old',
      submittedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      consumed: false,
    });
  });
  return ledger;
}

describe('JobBroker', () => {
  it('polls every live job with one executor call per tick, however many jobs there are', async () => {
    const exec = new FakeExecutor(4);
    const b = broker(exec);
    await b.start();
    const ids = Array.from({ length: 12 }, (_, i) => `t${i}`);
    b.schedule(ids);
    const outcomes = await Promise.all(ids.map((id) => b.run(id)));
    await b.close();
    expect(outcomes.map((o) => o.state)).toEqual(ids.map(() => 'COMPLETED'));
    // All 12 were submitted up front, so a poll carries all 12 jobs in one call, and the number of
    // calls is the number of ticks (a job needs 4 polls), not jobs × ticks.
    expect(Math.max(...exec.pollSizes)).toBe(12);
    expect(exec.pollSizes.length).toBeLessThanOrEqual(8);
    expect(b.pollCalls).toBe(exec.pollSizes.length);
  });

  it('keeps at most maxJobsInFlight jobs live and submits the rest as slots free up', async () => {
    const exec = new FakeExecutor(2);
    const b = broker(exec, { maxJobsInFlight: 3 });
    await b.start();
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    b.schedule(ids);
    await Promise.all(ids.map((id) => b.run(id)));
    await b.close();
    expect(exec.submitted).toHaveLength(8);
    expect(exec.maxLive).toBeLessThanOrEqual(3);
  });

  it('reports a refused submission to the test and goes on with the others', async () => {
    const exec = new FakeExecutor(1);
    const b = broker(exec);
    await b.start();
    b.schedule(['bad1', 'ok1']);
    await expect(b.run('bad1')).rejects.toThrow(/invalid partition for bad1/);
    await expect(b.run('ok1')).resolves.toMatchObject({ state: 'COMPLETED' });
    await b.close();
  });

  it('cancels jobs submitted for tests that never asked for them when the run ends', async () => {
    const exec = new FakeExecutor(1_000_000);
    const b = broker(exec);
    await b.start();
    b.schedule(['a', 'b']);
    await until(async () => (await inLedger()) === 2, 'both jobs recorded');
    await b.close();
    expect(exec.cancelled.sort()).toEqual(['100', '101']);
  });

  it('records every job in the ledger and re-attaches a crashed run’s job instead of resubmitting', async () => {
    const ledger = await seedCrashedRun('hash-t1');
    const exec = new FakeExecutor(1);
    const b = broker(exec);
    await b.start();
    const [o1, o2] = await Promise.all([b.run('t1'), b.run('t2')]);
    await b.close();
    expect(o1).toMatchObject({ jobId: '555', resumed: true, state: 'COMPLETED' });
    expect(o2.resumed).toBe(false);
    expect(exec.submitted).toEqual(['t2']);
    // Judged jobs of ended runs are in the runs' archives: every job is still found, once.
    const data = await ledger.readAll();
    expect(data.jobs.filter((j) => j.testId === 't1')).toHaveLength(1);
    expect(data.live.runs.every((r) => r.endedAt)).toBe(true);
  });

  it('does not re-attach when the config changed (different hash) or resume is off', async () => {
    await seedCrashedRun('an-older-config');
    const exec = new FakeExecutor(1);
    const b = broker(exec);
    await b.start();
    const o = await b.run('t1');
    await b.close();
    expect(o.resumed).toBe(false);
    expect(exec.submitted).toEqual(['t1']);
  });

  it('interrupt (Ctrl-C) cancels live jobs, drops queued ones and submits nothing afterwards', async () => {
    const exec = new FakeExecutor(1_000_000);
    const b = broker(exec, { maxJobsInFlight: 2 });
    await b.start();
    b.schedule(['a', 'b', 'c', 'd']);
    const runs = ['a', 'b', 'c', 'd'].map((id) => b.run(id).catch((e: Error) => e.message));
    await until(async () => (await inLedger()) === 2, 'two jobs recorded');
    // Two in flight and neither ends: c and d wait.
    expect(exec.submitted).toEqual(['a', 'b']);
    await b.interrupt('interrupted by SIGINT');
    expect(exec.cancelled.sort()).toEqual(['100', '101']);
    await expect(b.run('e')).rejects.toThrow(/not submitted: interrupted by SIGINT/);
    const messages = await Promise.all(runs.slice(2));
    expect(messages).toEqual([
      'not submitted: interrupted by SIGINT',
      'not submitted: interrupted by SIGINT',
    ]);
    expect(exec.submitted).toEqual(['a', 'b']);
    // Once the scheduler reports them CANCELLED (with its own reason or none), the ledger still says who.
    await Promise.all(runs.slice(0, 2));
    expect((await new Ledger(out).readAll()).jobs.map((j) => [j.state, j.reason])).toEqual([
      ['CANCELLED', 'interrupted by SIGINT'],
      ['CANCELLED', 'interrupted by SIGINT'],
    ]);
    await b.close();
  });

  it('interrupt marks the cancelled jobs CANCELLED in the ledger and their outcome says why', async () => {
    // Its scheduler keeps saying RUNNING after the cancel (as squeue may for a moment): the ledger and
    // the outcome must not depend on a poll seeing the end.
    class SlowToNotice extends FakeExecutor {
      override async cancel(): Promise<void> {}
    }
    const b = broker(new SlowToNotice(1_000_000));
    await b.start();
    b.schedule(['a', 'b']);
    const runs = ['a', 'b'].map((id) => b.run(id));
    await until(async () => (await inLedger('RUNNING')) === 2, 'both jobs RUNNING in the ledger');
    await b.interrupt('cancelled by Ctrl-C');
    const ledger = await new Ledger(out).readAll();
    expect(ledger.jobs.map((j) => [j.testId, j.state, j.reason])).toEqual([
      ['a', 'CANCELLED', 'cancelled by Ctrl-C'],
      ['b', 'CANCELLED', 'cancelled by Ctrl-C'],
    ]);
    const outcomes = await Promise.all(runs);
    expect(outcomes.map((o) => [o.state, o.cancelledBy])).toEqual([
      ['CANCELLED', 'cancelled by Ctrl-C'],
      ['CANCELLED', 'cancelled by Ctrl-C'],
    ]);
    await b.close();
    expect((await new Ledger(out).readAll()).jobs.every((j) => j.state === 'CANCELLED')).toBe(true);
  });

  it('cancels a job whose worker logs show a fatal error and reports the line', async () => {
    const exec = new FakeExecutor(1_000_000);
    exec.fatal.set('doomed', '3_output_GEN_0.log: MPI communication error: mpi4py.MPI.Comm.allgather');
    const b = broker(exec, { scanEveryMs: 0 });
    await b.start();
    const [doomed, fine] = await Promise.all([
      b.run('doomed'),
      Promise.race([b.run('fine'), new Promise((r) => setTimeout(() => r('still running'), 300))]),
    ]);
    expect(doomed).toMatchObject({ state: 'CANCELLED', earlyFailure: expect.stringContaining('mpi4py') });
    expect(fine).toBe('still running');
    expect(exec.cancelled).toEqual(['100']);
    await b.close();
  });

  it('refuses to overwrite a ledger it cannot read', async () => {
    fs.writeFileSync(path.join(out, 'jobs.json'), '{"not":"a ledger"}');
    const b = broker(new FakeExecutor());
    await expect(b.start()).rejects.toThrow(
      /"version" is missing, not 1\. This is not a usable vitest-disagg job ledger/,
    );
    expect(fs.readFileSync(path.join(out, 'jobs.json'), 'utf8')).toBe('{"not":"a ledger"}');
  });
});
