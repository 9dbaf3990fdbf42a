// The broker's tick with a done-marker watcher: a seen marker triggers one poll (after the settle
// time); once a marker of this run was seen and every live job is watched, the tick waits the safety
// interval; a job whose marker never comes (killed by SLURM) still ends through that tick.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker, type BrokerSettings } from '../../../src/broker/broker.js';
import { Ledger } from '../../../src/broker/ledger.js';
import type { DoneWatcher, Executor } from '../../../src/executors/types.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import { FakeExecutor } from './fake-executor.js';

/** Jobs end when the test says so; the watcher reports markers when the test fires them. */
class MarkerExecutor extends FakeExecutor {
  polls: string[][] = [];
  ended = new Map<string, JobStatus['state']>();
  watched = new Set<string>();
  watching = true;
  private onSeen?: (jobId: string) => void;
  private onLapse?: () => void;
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    this.polls.push(jobs.map((j) => j.jobId));
    const out = new Map<string, JobStatus>();
    for (const j of jobs)
      out.set(j.jobId, { jobId: j.jobId, state: this.ended.get(j.jobId) ?? 'RUNNING', exitCode: '0:0' });
    return out;
  }
  override async cancel(jobs: readonly SubmittedJob[]): Promise<void> {
    for (const j of jobs) {
      this.cancelled.push(j.jobId);
      this.ended.set(j.jobId, 'CANCELLED');
    }
  }
  scans = 0;
  fatal?: string;
  cancelled: string[] = [];
  override async scanEarlyFailure(): Promise<string | undefined> {
    this.scans += 1;
    return this.fatal;
  }
  async watchDone(onSeen: (jobId: string) => void, onLapse?: () => void): Promise<DoneWatcher> {
    this.onSeen = onSeen;
    this.onLapse = onLapse;
    return {
      add: (job) => void this.watched.add(job.jobId),
      remove: (id) => void this.watched.delete(id),
      watching: (id) => this.watching && this.watched.has(id),
      close: async () => this.watched.clear(),
    };
  }
  /** The job wrote its marker (and, `endsAfterPolls` polls later, reaches the scheduler as ended). */
  fire(jobId: string): void {
    this.onSeen?.(jobId);
  }
  /** The watcher's remote loop ended: its jobs are not watched until it is back. */
  lapse(): void {
    this.watching = false;
    this.onLapse?.();
  }
}

const SETTINGS: BrokerSettings = {
  maxJobsInFlight: 0,
  pollMinMs: 20,
  pollMaxMs: 50,
  resume: false,
  safetyPollMs: 60_000,
  markerSettleMs: 30,
};

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-push-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function broker(exec: Executor, over: Partial<BrokerSettings> = {}): JobBroker {
  return new JobBroker({
    executor: exec,
    ledger: new Ledger(out),
    settings: { ...SETTINGS, ...over },
    specFor: async (testId) => ({
      testId,
      configHash: testId,
      config: {},
      configFile: `/x/${testId}.yaml`,
      localLogDir: path.join(out, 'slurm_logs', testId),
      timeLimitMs: 60_000,
    }),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until `cond` holds: what the broker does on its own timers, however late a loaded machine
 * fires them. The bound is only a safety net.
 */
async function until(cond: () => boolean, what: string, boundMs = 15_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${boundMs / 1000} s: ${what}`);
    await sleep(5);
  }
}

let current: MarkerExecutor;

/** The job id of a test, once its job is live and watched (a marker can only be reported then). */
async function jobIdOf(b: JobBroker, testId: string): Promise<string> {
  const id = await new Promise<string>((resolve) => {
    const off = b.events.on('submitted', (e) => {
      if (e.testId === testId) {
        off();
        resolve(e.jobId);
      }
    });
  });
  await until(() => current.watched.has(id), `job ${id} watched`);
  return id;
}

describe('JobBroker with a done-marker watcher', () => {
  it('backs off as usual until a marker is seen; then one poll per marker and the safety tick', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec);
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    // No marker seen yet: the tick polls at the usual back-off (20–50 ms), again and again.
    await until(() => b.pollCalls >= 3, 'three back-off polls');
    expect(b.markerPolls).toBe(0);
    exec.ended.set(ja, 'COMPLETED');
    exec.fire(ja);
    expect((await a).state).toBe('COMPLETED');
    expect(b.markerPolls).toBe(1);

    // A marker of this run was seen: a new job waits the safety tick, then one poll after its marker.
    const idB = jobIdOf(b, 'b');
    const r = b.run('b');
    const jb = await idB;
    const calls = b.pollCalls;
    await sleep(300);
    expect(b.pollCalls).toBe(calls);
    exec.ended.set(jb, 'FAILED');
    exec.fire(jb);
    expect((await r).state).toBe('FAILED');
    expect(b.pollCalls).toBe(calls + 1);
    expect(b.markerPolls).toBe(2);
    await b.close();
  });

  it('a marker seen before the scheduler knows the end: polled again, backing off, until final', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec);
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    const fired = Date.now();
    exec.fire(ja); // still RUNNING for the scheduler
    await until(() => b.markerPolls >= 2, 'two polls after the marker');
    const followUps = b.markerPolls;
    const elapsed = Date.now() - fired;
    // 30 ms settle, then 60, 120 …: polls are due at 30, 90, 210 … ms after the marker (a loaded machine
    // only delays them), so by `elapsed` at most 1 + log2(1 + elapsed/30) of them, not one per 20 ms tick.
    expect(followUps).toBeLessThanOrEqual(Math.floor(1 + Math.log2(1 + elapsed / 30)) + 1);
    exec.ended.set(ja, 'COMPLETED');
    expect((await a).state).toBe('COMPLETED');
    await b.close();
  });

  it('a job that never writes a marker (killed by SLURM) ends through the safety tick', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec, { safetyPollMs: 400 });
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    exec.ended.set(ja, 'COMPLETED');
    exec.fire(ja);
    await a;
    const idK = jobIdOf(b, 'killed');
    const k = b.run('killed');
    const jk = await idK;
    const calls = b.pollCalls;
    exec.ended.set(jk, 'TIMEOUT');
    const outcome = await k;
    expect(outcome.state).toBe('TIMEOUT');
    expect(b.pollCalls).toBe(calls + 1);
    expect(b.markerPolls).toBe(1);
    await b.close();
  });

  it('a job the watcher does not watch (remote loop restarting) keeps the back-off tick', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec);
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    exec.ended.set(ja, 'COMPLETED');
    exec.fire(ja);
    await a;
    exec.watching = false;
    const idB = jobIdOf(b, 'b');
    const r = b.run('b');
    await idB;
    const calls = b.pollCalls;
    await until(() => b.pollCalls >= calls + 3, 'three back-off polls of the unwatched job');
    exec.ended.set(await idB, 'COMPLETED');
    await r;
    await b.close();
  });

  it('a watcher that lapses (its loop ended) brings the back-off tick back at once', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec);
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    exec.ended.set(ja, 'COMPLETED');
    exec.fire(ja);
    await a;
    const idB = jobIdOf(b, 'b');
    const r = b.run('b');
    const jb = await idB;
    const calls = b.pollCalls;
    await sleep(150);
    expect(b.pollCalls).toBe(calls); // the safety tick is a minute away
    exec.lapse();
    await until(() => b.pollCalls >= calls + 3, 'three back-off polls after the lapse');
    exec.ended.set(jb, 'COMPLETED');
    await r;
    await b.close();
  });

  it('between slowed ticks, live jobs are still scanned for fatal errors, without a scheduler poll', async () => {
    const exec = (current = new MarkerExecutor());
    const b = broker(exec, { scanEveryMs: 30 });
    const idA = jobIdOf(b, 'a');
    const a = b.run('a');
    const ja = await idA;
    exec.ended.set(ja, 'COMPLETED');
    exec.fire(ja);
    await a;
    const idB = jobIdOf(b, 'b');
    const r = b.run('b');
    const jb = await idB;
    const calls = b.pollCalls;
    const scans = exec.scans;
    await until(() => exec.scans >= scans + 3, 'three early-failure scans');
    expect(b.pollCalls).toBe(calls);
    // A fatal line: the job is cancelled at once, and its end is then polled.
    exec.fatal = 'CUDA error: out of memory';
    const outcome = await r;
    expect(exec.cancelled).toEqual([jb]);
    expect(outcome.state).toBe('CANCELLED');
    expect(outcome.earlyFailure).toBe('CUDA error: out of memory');
    await b.close();
  });
});
