import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker, type BrokerSettings } from '../../../src/broker/broker.js';
import {
  BrokerEvents,
  type BrokerEventMap,
  type BrokerEventName,
  type StateEvent,
} from '../../../src/broker/events.js';
import { latestLinkFor, runDirFor } from '../../../src/broker/job-dirs.js';
import { Ledger } from '../../../src/broker/ledger.js';
import { ConfigError, SubmitError } from '../../../src/errors.js';
import type { Executor } from '../../../src/executors/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../../../src/types.js';

/**
 * A scripted executor: each job walks through `states` (one per poll) and writes a benchmark line into
 * its (local) job dir while RUNNING; `submitErrors` are thrown by the first submits.
 */
class ScriptedExecutor implements Executor {
  readonly kind = 'slurm' as const;
  submits = 0;
  submitErrors: Error[] = [];
  private polls = new Map<string, number>();
  constructor(private readonly states: JobStatus[]) {}
  async submit(spec: JobSpec): Promise<SubmittedJob> {
    this.submits++;
    const err = this.submitErrors.shift();
    if (err) throw err;
    const jobId = String(700 + this.submits);
    this.polls.set(jobId, 0);
    fs.mkdirSync(spec.localLogDir, { recursive: true });
    return { jobId, testId: spec.testId, jobDir: spec.localLogDir, submittedAt: new Date().toISOString() };
  }
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const j of jobs) {
      const n = this.polls.get(j.jobId) ?? 0;
      this.polls.set(j.jobId, n + 1);
      const s = this.states[Math.min(n, this.states.length - 1)];
      if (s.state === 'RUNNING') {
        fs.appendFileSync(path.join(j.jobDir, '6_bench.log'), `Benchmarking with concurrency ${2 ** n}\n`);
      }
      out.set(j.jobId, { ...s, jobId: j.jobId });
    }
    return out;
  }
  async cancel(): Promise<void> {}
  async scanEarlyFailure(): Promise<string | undefined> {
    return undefined;
  }
  async fetchLogs(): Promise<void> {}
  async close(): Promise<void> {}
}

const SETTINGS: BrokerSettings = {
  maxJobsInFlight: 0,
  pollMinMs: 2,
  pollMaxMs: 5,
  resume: false,
  scanEveryMs: 0,
  submitRetryDelayMs: 5,
};
const RUN = '20261129-051522-abcd';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-events-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function spec(testId: string): JobSpec {
  return {
    testId,
    configHash: `hash-${testId}`,
    config: {},
    configFile: `/x/${testId}.yaml`,
    localLogDir: runDirFor(out, RUN, testId),
    timeLimitMs: 60_000,
  };
}

function brokerWith(executor: Executor, specFor: (id: string) => Promise<JobSpec> = async (id) => spec(id)) {
  const lines: string[] = [];
  const b = new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: SETTINGS,
    specFor,
    runId: RUN,
    log: (m) => lines.push(m),
  });
  // Each state change of a `states` event counts as one 'state' here, in its order.
  const seen: Array<{
    name: BrokerEventName | 'state';
    event: BrokerEventMap[BrokerEventName] | StateEvent;
  }> = [];
  for (const name of ['submitted', 'states', 'progress', 'final', 'notice'] as const) {
    b.events.on(name, (event) => {
      if (name === 'states') for (const e of event as StateEvent[]) seen.push({ name: 'state', event: e });
      else seen.push({ name, event });
    });
  }
  return { b, seen, lines };
}

describe('broker events', () => {
  it('tells submitted, each state change with its SLURM reason, progress and the final outcome, in order', async () => {
    const exec = new ScriptedExecutor([
      { jobId: '', state: 'PENDING', reason: 'Priority' },
      { jobId: '', state: 'PENDING', reason: 'Resources' },
      { jobId: '', state: 'RUNNING', nodes: 'node[1-2]' },
      { jobId: '', state: 'RUNNING', nodes: 'node[1-2]' },
      { jobId: '', state: 'COMPLETED', exitCode: '0:0', nodes: 'node[1-2]' },
    ]);
    const { b, seen, lines } = brokerWith(exec);
    await b.start();
    b.schedule(['t1']);
    const outcome = await b.run('t1');
    // The test judged the job and wrote its results: only now is it consumed.
    await b.consumed('t1', outcome.jobId);
    await b.close();

    const names = seen.filter((s) => s.name !== 'notice').map((s) => s.name);
    expect(names).toEqual(['submitted', 'state', 'state', 'state', 'progress', 'progress', 'state', 'final']);
    const [submitted, pending, resources, running, p1, p2, done, final] = seen
      .filter((s) => s.name !== 'notice')
      .map((s) => s.event);
    expect(submitted).toMatchObject({
      testId: 't1',
      jobId: '701',
      executor: 'slurm',
      resumed: false,
      logDir: runDirFor(out, RUN, 't1'),
      submittedByRun: RUN,
    });
    expect(pending).toMatchObject({
      testId: 't1',
      jobId: '701',
      state: 'PENDING',
      reason: 'Priority',
      terminal: false,
    });
    expect(pending).not.toHaveProperty('previous', expect.anything());
    expect(resources).toMatchObject({ state: 'PENDING', previous: 'PENDING', reason: 'Resources' });
    // A reason change keeps the time the state was first seen.
    expect((resources as { since: string }).since).toBe((pending as { since: string }).since);
    expect(running).toMatchObject({ state: 'RUNNING', previous: 'PENDING', nodes: 'node[1-2]' });
    expect(p1).toMatchObject({ testId: 't1', jobId: '701', concurrency: 4, concurrenciesDone: [] });
    expect(p2).toMatchObject({ concurrency: 8 });
    expect(done).toMatchObject({ state: 'COMPLETED', previous: 'RUNNING', exitCode: '0:0', terminal: true });
    expect(final).toMatchObject({ testId: 't1', ok: true, jobId: '701', state: 'COMPLETED', outcome });

    // The log lines and the ledger are subscribers too.
    expect(lines).toContain('t1: submitted job 701');
    const ledger = await new Ledger(out).readAll();
    expect(ledger.jobs).toHaveLength(1);
    expect(ledger.jobs[0]).toMatchObject({
      jobId: '701',
      state: 'COMPLETED',
      consumed: true,
      localLogDir: runDirFor(out, RUN, 't1'),
    });
    // The latest link points at this run's dir.
    expect(fs.realpathSync(latestLinkFor(out, 't1'))).toBe(fs.realpathSync(runDirFor(out, RUN, 't1')));
  });

  it('tells a test that could not be submitted as a final event with the error', async () => {
    const exec = new ScriptedExecutor([{ jobId: '', state: 'COMPLETED' }]);
    exec.submitErrors = [new Error('sbatch: error: invalid partition')];
    const { b, seen } = brokerWith(exec);
    await b.start();
    await expect(b.run('t1')).rejects.toThrow(/invalid partition/);
    await b.close();
    expect(seen.filter((s) => s.name === 'final').map((s) => s.event)).toEqual([
      { testId: 't1', ok: false, jobId: undefined, error: 'sbatch: error: invalid partition' },
    ]);
  });

  it('awaits async listeners and surfaces their errors to the emitter', async () => {
    const events = new BrokerEvents();
    const order: string[] = [];
    events.on('notice', async (e) => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(`slow ${e.message}`);
    });
    const off = events.on('notice', (e) => {
      order.push(`fast ${e.message}`);
    });
    await events.emit('notice', { message: 'a' });
    expect(order).toEqual(['fast a', 'slow a']);
    off();
    events.on('notice', () => {
      throw new Error('listener broke');
    });
    await expect(events.emit('notice', { message: 'b' })).rejects.toThrow('listener broke');
    expect(order).toEqual(['fast a', 'slow a', 'slow b']);
  });
});

describe('resume', () => {
  it('a re-attached job keeps the log dir its crashed run chose; submitted says so', async () => {
    const OLD = '20261128-230000-0ld0';
    const oldDir = runDirFor(out, OLD, 't1');
    const dead = spawnSync('true').pid as number;
    await new Ledger(out).update((d) => {
      d.runs.push({ id: OLD, pid: dead, startedAt: new Date().toISOString() });
      d.jobs.push({
        testId: 't1',
        configHash: 'hash-t1',
        executor: 'slurm',
        jobId: '555',
        jobDir: oldDir,
        localLogDir: oldDir,
        state: 'RUNNING',
        runId: OLD,
        submittedAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        consumed: false,
      });
    });
    fs.mkdirSync(oldDir, { recursive: true });
    const exec = new ScriptedExecutor([{ jobId: '', state: 'COMPLETED', exitCode: '0:0' }]);
    const lines: string[] = [];
    const b = new JobBroker({
      executor: exec,
      ledger: new Ledger(out),
      settings: { ...SETTINGS, resume: true },
      specFor: async (id) => spec(id),
      runId: RUN,
      log: (m) => lines.push(m),
    });
    const submitted: unknown[] = [];
    b.events.on('submitted', (e) => {
      submitted.push(e);
    });
    await b.start();
    const outcome = await b.run('t1');
    await b.consumed('t1', outcome.jobId);
    await b.close();
    expect(exec.submits).toBe(0);
    expect(outcome).toMatchObject({ jobId: '555', resumed: true, logDir: oldDir });
    expect(submitted).toEqual([
      expect.objectContaining({ resumed: true, logDir: oldDir, submittedByRun: OLD }),
    ]);
    expect(lines).toContain('t1: re-attached to job 555 of a crashed run');
    expect(fs.realpathSync(latestLinkFor(out, 't1'))).toBe(fs.realpathSync(oldDir));
    const job = (await new Ledger(out).readAll()).jobs.find((j) => j.jobId === '555');
    expect(job).toMatchObject({ runId: RUN, consumed: true, state: 'COMPLETED' });
  });
});

describe('submit retries', () => {
  const DONE: JobStatus[] = [{ jobId: '', state: 'COMPLETED', exitCode: '0:0' }];

  it('retries a retryable submit error, then the job runs', async () => {
    const exec = new ScriptedExecutor(DONE);
    exec.submitErrors = [
      new SubmitError('QOSMaxSubmitJobPerUserLimit', true),
      new SubmitError('QOSMaxSubmitJobPerUserLimit', true),
    ];
    const { b, lines } = brokerWith(exec);
    await b.start();
    const outcome = await b.run('t1');
    await b.close();
    expect(outcome.state).toBe('COMPLETED');
    expect(exec.submits).toBe(3);
    expect(lines.filter((l) => l.includes('retrying'))).toHaveLength(2);
  });

  it('gives up after the attempts allowed', async () => {
    const exec = new ScriptedExecutor(DONE);
    exec.submitErrors = [1, 2, 3, 4].map(() => new SubmitError('QOSMaxSubmitJobPerUserLimit', true));
    const { b } = brokerWith(exec);
    await b.start();
    await expect(b.run('t1')).rejects.toThrow(/QOSMax/);
    await b.close();
    expect(exec.submits).toBe(3);
  });

  it('fails at once on a non-retryable submit error or any other error', async () => {
    const exec = new ScriptedExecutor(DONE);
    exec.submitErrors = [new SubmitError('invalid account', false), new Error('sbatch: unknown option')];
    const { b, lines } = brokerWith(exec);
    await b.start();
    await expect(b.run('t1')).rejects.toThrow('invalid account');
    await expect(b.run('t2')).rejects.toThrow('unknown option');
    await b.close();
    expect(exec.submits).toBe(2);
    expect(lines.some((l) => l.includes('retrying'))).toBe(false);
  });

  it('fails a test with a config error at once, without submitting', async () => {
    const exec = new ScriptedExecutor(DONE);
    const { b } = brokerWith(exec, async (id) => {
      throw new ConfigError(`${id}.yaml: slurm.partition: unresolved placeholder <partition>`, `${id}.yaml`);
    });
    await b.start();
    await expect(b.run('t1')).rejects.toBeInstanceOf(ConfigError);
    await b.close();
    expect(exec.submits).toBe(0);
  });
});
