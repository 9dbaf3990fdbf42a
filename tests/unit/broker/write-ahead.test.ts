// Write-ahead submission (issue 12): the intent is in the ledger before the submit, a run killed between
// submit and ledger write has its job adopted by the next run (never submitted twice), a job whose ledger
// entry cannot be written is cancelled, and a consumed job is never re-attached.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker, type BrokerSettings } from '../../../src/broker/broker.js';
import { Ledger, type LedgerData } from '../../../src/broker/ledger.js';
import { runLockFile } from '../../../src/broker/run-lock.js';
import { TransportError } from '../../../src/errors.js';
import type { Executor, ReconciledJob } from '../../../src/executors/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../../../src/types.js';
import { readWithArchive } from './ledger-files.js';

/** A scheduler that keeps its jobs by token, as SLURM keeps `--comment`; jobs finish on the first poll. */
class TokenScheduler implements Executor {
  readonly kind = 'slurm' as const;
  /** Every job ever made, by id. */
  readonly jobs = new Map<string, { testId: string; token?: string; state: JobStatus['state'] }>();
  submits = 0;
  reconcileCalls: string[][] = [];
  cancelled: string[] = [];
  private n = 700;
  /** Runs inside submit, after the job exists (a crash or a ledger problem at that instant). */
  afterSubmit?: (spec: JobSpec, jobId: string) => Promise<void>;
  /** Make the job, then throw this (a lost link after sbatch). */
  failAfterSubmit?: Error;
  reconcileError?: Error;

  async submit(spec: JobSpec): Promise<SubmittedJob> {
    this.submits++;
    const jobId = String(this.n++);
    this.jobs.set(jobId, { testId: spec.testId, token: spec.submitToken, state: 'RUNNING' });
    await this.afterSubmit?.(spec, jobId);
    if (this.failAfterSubmit) throw this.failAfterSubmit;
    return { jobId, testId: spec.testId, jobDir: spec.localLogDir, submittedAt: new Date().toISOString() };
  }
  async reconcile(tokens: readonly string[]): Promise<Map<string, ReconciledJob>> {
    this.reconcileCalls.push([...tokens]);
    if (this.reconcileError) throw this.reconcileError;
    const out = new Map<string, ReconciledJob>();
    for (const [jobId, j] of this.jobs)
      if (j.token && tokens.includes(j.token))
        out.set(j.token, { jobId, state: j.state, jobDir: `/wd/${jobId}` });
    return out;
  }
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const j of jobs) {
      const job = this.jobs.get(j.jobId);
      if (job && job.state === 'RUNNING') job.state = 'COMPLETED';
      out.set(j.jobId, { jobId: j.jobId, state: job?.state ?? 'UNKNOWN', exitCode: '0:0' });
    }
    return out;
  }
  async cancel(jobs: readonly SubmittedJob[]): Promise<void> {
    for (const j of jobs) {
      this.cancelled.push(j.jobId);
      const job = this.jobs.get(j.jobId);
      if (job && job.state === 'RUNNING') job.state = 'CANCELLED';
    }
  }
  async scanEarlyFailure(): Promise<string | undefined> {
    return undefined;
  }
  async fetchLogs(): Promise<void> {}
  async close(): Promise<void> {}
  live(): string[] {
    return [...this.jobs].filter(([, j]) => j.state === 'RUNNING').map(([id]) => id);
  }
}

const SETTINGS: BrokerSettings = { maxJobsInFlight: 0, pollMinMs: 5, pollMaxMs: 20, resume: true };

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'write-ahead-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function broker(executor: Executor, settings: Partial<BrokerSettings> = {}, ledger = new Ledger(out)) {
  return new JobBroker({
    executor,
    ledger,
    settings: { ...SETTINGS, submitRetryDelayMs: 5, ...settings },
    specFor: async (testId) => ({
      testId,
      configHash: `hash-${testId}`,
      config: {},
      configFile: `/x/${testId}.yaml`,
      localLogDir: path.join(out, 'slurm_logs', testId),
      timeLimitMs: 60_000,
    }),
  });
}

const read = (): LedgerData => readWithArchive(out);

/** Mark every run of the ledger, and the output dir's run lock, as a dead process's (what kill -9 leaves). */
async function killRuns(): Promise<void> {
  const dead = spawnSync('true').pid as number;
  await new Ledger(out).update((d) => {
    for (const r of d.runs) if (!r.endedAt) r.pid = dead;
  });
  const lock = runLockFile(out);
  if (fs.existsSync(lock)) {
    const owner = JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number };
    fs.writeFileSync(lock, JSON.stringify({ ...owner, pid: dead }));
  }
}

describe('write-ahead submission', () => {
  it('records the intent with the job’s token before submitting; the job replaces it in one write', async () => {
    const ex = new TokenScheduler();
    const seen: LedgerData[] = [];
    let token: string | undefined;
    ex.afterSubmit = async (spec) => {
      token = spec.submitToken;
      seen.push(read());
    };
    const b = broker(ex);
    const outcome = await b.run('t1');
    await b.close();
    expect(token).toMatch(new RegExp(`^dsg-${b.runId}-1-[0-9a-f]{8}$`));
    expect(seen[0]?.intents).toEqual([
      expect.objectContaining({ token, testId: 't1', runId: b.runId, executor: 'slurm' }),
    ]);
    expect(seen[0]?.jobs).toEqual([]);
    const after = read();
    expect(after.intents).toEqual([]);
    expect(after.jobs.map((j) => [j.testId, j.jobId])).toEqual([['t1', outcome.jobId]]);
  });

  it('a run killed after the submit, before the ledger write: the rerun adopts the job, submits nothing', async () => {
    const ex = new TokenScheduler();
    // What kill -9 between sbatch and the ledger write leaves: the run's intent, and a job with its token.
    const b0 = broker(ex);
    await b0.start();
    const token = `dsg-${b0.runId}-1-0badcafe`;
    await new Ledger(out).update((d) => {
      (d.intents ??= []).push({
        token,
        testId: 't1',
        runId: b0.runId,
        executor: 'slurm',
        configHash: 'hash-t1',
        localLogDir: path.join(out, 'runs', b0.runId, 't1'),
        createdAt: new Date().toISOString(),
      });
    });
    ex.jobs.set('650', { testId: 't1', token, state: 'RUNNING' });
    await killRuns();

    const notices: string[] = [];
    const second = broker(ex);
    second.events.on('notice', (e) => void notices.push(e.message));
    const outcome = await second.run('t1');
    await second.consumed('t1', outcome.jobId);
    await second.close();
    expect(ex.submits).toBe(0);
    expect(ex.reconcileCalls).toEqual([[token]]);
    expect(outcome).toMatchObject({ jobId: '650', resumed: true, state: 'COMPLETED' });
    // The crashed run's log dir, and the job dir the scheduler reported.
    expect(outcome.logDir).toBe(path.join(out, 'runs', b0.runId, 't1'));
    expect(notices.join('\n')).toContain('found job 650');
    const data = read();
    expect(data.intents).toEqual([]);
    expect(data.jobs.map((j) => [j.testId, j.jobId, j.jobDir, j.consumed])).toEqual([
      ['t1', '650', '/wd/650', true],
    ]);
  });

  it('a submit that threw after making its job is resolved at once by asking for its token', async () => {
    const ex = new TokenScheduler();
    ex.afterSubmit = async () => {
      throw new Error('sbatch: unexpected output');
    };
    const b = broker(ex);
    const outcome = await b.run('t1');
    await b.close();
    expect(ex.submits).toBe(1);
    expect(ex.reconcileCalls).toHaveLength(1);
    expect(outcome.jobId).toBe('700');
    expect(read().intents).toEqual([]);
  });

  it('an intent whose submit made no job is submitted afresh, once', async () => {
    const ex = new TokenScheduler();
    const b0 = broker(ex);
    await b0.start();
    await new Ledger(out).update((d) => {
      (d.intents ??= []).push({
        token: `dsg-${b0.runId}-1-deadbeef`,
        testId: 't1',
        runId: b0.runId,
        executor: 'slurm',
        configHash: 'hash-t1',
        localLogDir: path.join(out, 'x'),
        createdAt: new Date().toISOString(),
      });
    });
    await killRuns();
    const b = broker(ex);
    await b.run('t1');
    await b.close();
    expect(ex.submits).toBe(1);
    expect(ex.reconcileCalls).toEqual([[`dsg-${b0.runId}-1-deadbeef`]]);
    expect(read().intents).toEqual([]);
  });

  it('a scheduler that cannot be asked about open intents stops the start: nothing is submitted', async () => {
    const ex = new TokenScheduler();
    ex.afterSubmit = async () => {
      throw new Error('killed');
    };
    ex.reconcileError = new Error('squeue: error: slurm_load_jobs error: Unable to contact slurm controller');
    // The doubt after the failed submit cannot be resolved either: the intent stays for the next start.
    await expect(broker(ex).run('t1')).rejects.toThrow('killed');
    expect(read().intents).toHaveLength(1);
    await killRuns();
    ex.afterSubmit = undefined;
    const b = broker(ex);
    await expect(b.run('t1')).rejects.toThrow(/submissions in doubt.*Unable to contact slurm controller/);
    await b.close();
    expect(ex.submits).toBe(1);
    expect(read().intents).toHaveLength(1);
  });

  it('a submit that failed after making its job (lost link) uses that job instead of a second one', async () => {
    const ex = new TokenScheduler();
    ex.failAfterSubmit = new TransportError('ssh connection lost');
    const b = broker(ex);
    const outcome = await b.run('t1');
    await b.close();
    expect(ex.submits).toBe(1);
    expect(outcome.jobId).toBe('700');
    expect(read().jobs.map((j) => j.jobId)).toEqual(['700']);
    expect(read().intents).toEqual([]);
  });

  it('a submit refused outright drops its intent and fails the test', async () => {
    const ex = new TokenScheduler();
    ex.submit = async () => {
      ex.submits++;
      throw new Error('sbatch: error: invalid partition specified: nope');
    };
    const b = broker(ex);
    await expect(b.run('t1')).rejects.toThrow('invalid partition');
    await b.close();
    expect(read().intents).toEqual([]);
  });
});

describe('never a job nobody tracks', () => {
  it('ledger lock held by another holder after the submit: the job is cancelled and the test says why', async () => {
    const ex = new TokenScheduler();
    let release: (() => Promise<void>) | undefined;
    ex.afterSubmit = async () => {
      // Another process takes the ledger lock (and keeps it fresh) right after sbatch returned.
      release = await lockfile.lock(out, { lockfilePath: path.join(out, 'jobs.json.lock'), update: 1000 });
    };
    const b = broker(ex, { ledgerAttempts: 2, ledgerRetryDelayMs: 10 }, new Ledger(out, 3));
    try {
      const err = await b.run('t1').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(
        /job 700 was cancelled: the ledger .*jobs\.json could not be written after 2 attempts/,
      );
      expect(err?.message).toMatch(/already being held/);
      expect(ex.cancelled).toEqual(['700']);
      expect(ex.live()).toEqual([]);
    } finally {
      ex.afterSubmit = undefined;
      await release?.();
    }
    await b.close();
    // The intent stays: the next start asks the scheduler, finds the job cancelled, and does not re-attach it.
    expect(read().intents).toHaveLength(1);
    await killRuns();
    const again = broker(ex);
    await again.run('t1');
    await again.close();
    expect(ex.submits).toBe(2);
    expect(read().jobs.map((j) => [j.jobId, j.state])).toEqual([
      ['700', 'CANCELLED'],
      ['701', 'COMPLETED'],
    ]);
  });
});

describe('resume is exact', () => {
  it('a crashed run’s COMPLETED job that a test already judged (consumed) is not re-attached', async () => {
    const ex = new TokenScheduler();
    const first = broker(ex);
    const judged = await first.run('t1');
    await first.consumed('t1', judged.jobId); // the test wrote its results
    await killRuns(); // the run dies after the test consumed the job, before it ended
    const second = broker(ex);
    const outcome = await second.run('t1');
    await second.close();
    expect(outcome.resumed).toBe(false);
    expect(outcome.jobId).not.toBe(judged.jobId);
    expect(ex.submits).toBe(2);
  });

  it('a job handed to its test is not consumed before the test wrote its results (issue 21)', async () => {
    // Killed after the broker handed the outcome over, before the test's CSV rows and history line were
    // written: the rerun must judge that job again, never run it again.
    const ex = new TokenScheduler();
    const first = broker(ex);
    const handed = await first.run('t1');
    expect(read().jobs.find((j) => j.jobId === handed.jobId)?.consumed).toBe(false);
    await killRuns();
    const second = broker(ex);
    const outcome = await second.run('t1');
    await second.consumed('t1', outcome.jobId);
    await second.close();
    expect(outcome).toMatchObject({ jobId: handed.jobId, resumed: true });
    expect(ex.submits).toBe(1);
    expect(read().jobs.find((j) => j.jobId === handed.jobId)?.consumed).toBe(true);
  });

  it('a crashed run’s COMPLETED job not yet judged is re-attached, not submitted again', async () => {
    const ex = new TokenScheduler();
    const first = broker(ex);
    await first.start();
    await new Ledger(out).update((d) => {
      d.jobs.push({
        testId: 't1',
        configHash: 'hash-t1',
        executor: 'slurm',
        jobId: '42',
        jobDir: '/wd/42',
        state: 'COMPLETED',
        runId: first.runId,
        submittedAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        consumed: false,
      });
    });
    ex.jobs.set('42', { testId: 't1', state: 'COMPLETED' });
    await killRuns();
    const second = broker(ex);
    const outcome = await second.run('t1');
    await second.close();
    expect(outcome).toMatchObject({ jobId: '42', resumed: true });
    expect(ex.submits).toBe(0);
  });
});
