import path from 'node:path';
import type { Executor } from '../executors/types.js';
import {
  TERMINAL_STATES,
  type JobOutcome,
  type JobSpec,
  type JobStatus,
  type SubmittedJob,
} from '../types.js';
import { readTail, lastLines } from '../util/tail.js';
import { Ledger, type LedgerJob } from './ledger.js';
import { slurmErrFile, slurmOutFile } from '../jobdir/files.js';

export interface BrokerSettings {
  /** 0 = unlimited. */
  maxJobsInFlight: number;
  pollMinMs: number;
  pollMaxMs: number;
  resume: boolean;
  /** How often a running job's worker logs are scanned for fatal errors (default 10 s). */
  scanEveryMs?: number;
}

export interface BrokerDeps {
  executor: Executor;
  ledger: Ledger;
  settings: BrokerSettings;
  /** Builds the job for a test, or throws a clear error (invalid config, unresolved placeholder…). */
  specFor: (testId: string) => Promise<JobSpec>;
  log?: (message: string) => void;
}

type Phase = 'queued' | 'submitting' | 'live' | 'collecting' | 'done';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A job nobody asked for may fail; that must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface Tracked {
  testId: string;
  phase: Phase;
  requested: boolean;
  spec?: JobSpec;
  job?: SubmittedJob;
  status?: JobStatus;
  resumed: boolean;
  cancelRequested?: boolean;
  earlyFailure?: string;
  /** When the job was first seen RUNNING (ms): its age decides how fast it is polled. */
  runningSince?: number;
  lastScanAt: number;
  result: Deferred<JobOutcome>;
}

/** Non-terminal states a re-attached job may be in; a cancelled or failed one is submitted afresh. */
const REATTACHABLE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'COMPLETED']);
const SCAN_EVERY_MS = 10_000;
/** Consecutive failed polls (e.g. the login node is unreachable) before waiting tests are failed. */
const MAX_POLL_FAILURES = 30;

/**
 * The one job broker of a run, in the Vitest main process. It submits jobs (up front, bounded by
 * maxJobsInFlight), polls all live jobs with one executor call per tick, scans worker logs for fatal
 * errors, collects logs, and hands each test its outcome. Every job is in the ledger, so a crashed run's
 * jobs are re-attached by the next run instead of submitted twice.
 */
export class JobBroker {
  readonly runId = `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  private readonly tracked = new Map<string, Tracked>();
  private readonly order: string[] = [];
  private resumable = new Map<string, LedgerJob>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private pollFailures = 0;
  private closed = false;
  /** Set by Ctrl-C/SIGTERM: nothing new is submitted after it. */
  private interrupted?: string;
  private started?: Promise<void>;
  private activated?: Promise<void>;
  private planned: readonly string[] = [];
  /** Number of executor.poll calls, for the benchmark and tests. */
  pollCalls = 0;

  constructor(private readonly deps: BrokerDeps) {}

  private log(message: string): void {
    this.deps.log?.(message);
  }

  /** Record this run in the ledger and find a crashed run's jobs (called on the first `run`). */
  start(): Promise<void> {
    return (this.started ??= this.open());
  }

  private async open(): Promise<void> {
    const { executor, ledger, settings } = this.deps;
    await ledger.update((data) => {
      const crashed = new Set(Ledger.crashedRuns(data).map((r) => r.id));
      for (const job of data.jobs) {
        if (
          settings.resume &&
          crashed.has(job.runId) &&
          job.executor === executor.kind &&
          REATTACHABLE.has(job.state)
        ) {
          this.resumable.set(job.testId, job);
        }
      }
      for (const run of data.runs) if (crashed.has(run.id)) run.endedAt = new Date().toISOString();
      data.runs.push({ id: this.runId, pid: process.pid, startedAt: new Date().toISOString() });
    });
    if (this.resumable.size) this.log(`${this.resumable.size} job(s) of a crashed run can be re-attached`);
  }

  /** Submit these tests' jobs up front (the main process knows the scheduled set before workers start). */
  schedule(testIds: readonly string[]): void {
    for (const id of testIds) this.track(id);
    this.pump();
  }

  /**
   * The jobs to submit as soon as the first test asks for one. Not earlier: `vitest list` runs the global
   * setup too, and must neither submit jobs nor touch the ledger (a crashed run's jobs wait for a real run).
   */
  plan(testIds: readonly string[]): void {
    this.planned = testIds;
  }

  private ensureStarted(): Promise<void> {
    return (this.activated ??= this.start().then(() => this.schedule(this.planned)));
  }

  /** The outcome of a test's job: submits it if needed, waits until it ended and its logs are local. */
  async run(testId: string): Promise<JobOutcome> {
    await this.ensureStarted();
    const t = this.track(testId);
    t.requested = true;
    this.pump();
    return t.result.promise;
  }

  /** A test was aborted: cancel its job. */
  async cancel(testId: string): Promise<void> {
    const t = this.tracked.get(testId);
    if (!t) return;
    if (t.phase === 'queued') {
      t.phase = 'done';
      t.result.reject(new Error('cancelled before submission'));
      return;
    }
    if (t.job && t.phase === 'live' && !t.cancelRequested) {
      t.cancelRequested = true;
      await this.deps.executor.cancel([t.job]);
    }
  }

  /** Ctrl-C or SIGTERM: cancel every job of this run and submit nothing more. */
  interrupt(reason: string): Promise<string[]> {
    this.interrupted = reason;
    return this.cancelAll(reason);
  }

  /** Cancel every job of this run that is still queued or live (Ctrl-C, SIGTERM, end of run). */
  async cancelAll(reason: string, only: (t: Tracked) => boolean = () => true): Promise<string[]> {
    const live: SubmittedJob[] = [];
    for (const t of this.tracked.values()) {
      if (!only(t)) continue;
      if (t.phase === 'queued') {
        t.phase = 'done';
        t.result.reject(new Error(`not submitted: ${reason}`));
      } else if (t.job && !t.cancelRequested && (t.phase === 'live' || t.phase === 'submitting')) {
        t.cancelRequested = true;
        live.push(t.job);
      }
    }
    if (live.length) {
      this.log(`cancelling ${live.length} job(s): ${reason}`);
      await this.deps.executor.cancel(live);
      const ids = new Set(live.map((j) => j.jobId));
      await this.deps.ledger.update((data) => {
        for (const j of data.jobs)
          if (ids.has(j.jobId) && j.runId === this.runId) j.reason = `cancel requested: ${reason}`;
      });
    }
    return live.map((j) => j.jobId);
  }

  /** End of run: cancel jobs submitted for tests that did not run, stop polling, close the ledger run. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.started) {
      // Nothing was ever asked for (e.g. `vitest list`): no jobs, no ledger entry.
      this.closed = true;
      await this.deps.executor.close();
      return;
    }
    await this.started.catch(() => undefined);
    this.closed = true;
    await this.cancelAll('the test run ended before these tests asked for their job', (t) => !t.requested);
    await this.cancelAll('the test run ended');
    if (this.timer) clearTimeout(this.timer);
    await this.deps.ledger.update((data) => {
      const run = data.runs.find((r) => r.id === this.runId);
      if (run) run.endedAt = new Date().toISOString();
    });
    await this.deps.executor.close();
  }

  private track(testId: string): Tracked {
    let t = this.tracked.get(testId);
    if (!t) {
      t = { testId, phase: 'queued', requested: false, resumed: false, lastScanAt: 0, result: deferred() };
      this.tracked.set(testId, t);
      this.order.push(testId);
    }
    return t;
  }

  private inFlight(): number {
    let n = 0;
    for (const t of this.tracked.values()) if (t.phase === 'submitting' || t.phase === 'live') n++;
    return n;
  }

  private pump(): void {
    if (this.closed) return;
    if (this.interrupted) {
      for (const t of this.tracked.values()) {
        if (t.phase !== 'queued') continue;
        t.phase = 'done';
        t.result.reject(new Error(`not submitted: ${this.interrupted}`));
      }
      return;
    }
    const max = this.deps.settings.maxJobsInFlight;
    // Tests that are waiting go first; the rest keep the order they were scheduled in.
    const queued = this.order
      .map((id) => this.tracked.get(id) as Tracked)
      .filter((t) => t.phase === 'queued')
      .sort((a, b) => Number(b.requested) - Number(a.requested));
    for (const t of queued) {
      if (max > 0 && this.inFlight() >= max) break;
      t.phase = 'submitting';
      void this.submit(t);
    }
  }

  private async submit(t: Tracked): Promise<void> {
    try {
      t.spec = await this.deps.specFor(t.testId);
      const previous = this.resumable.get(t.testId);
      if (previous && previous.configHash === t.spec.configHash) {
        this.resumable.delete(t.testId);
        t.job = {
          jobId: previous.jobId,
          testId: t.testId,
          jobDir: previous.jobDir,
          pid: previous.pid,
          submittedAt: previous.submittedAt,
        };
        t.resumed = true;
        this.log(`${t.testId}: re-attached to job ${previous.jobId} of a crashed run`);
        await this.deps.ledger.update((data) => {
          const j = data.jobs.find((x) => x.jobId === previous.jobId && x.testId === t.testId);
          if (j) j.runId = this.runId;
        });
      } else {
        t.job = await this.deps.executor.submit(t.spec);
        const job = t.job;
        const spec = t.spec;
        const now = new Date().toISOString();
        await this.deps.ledger.update((data) => {
          data.jobs.push({
            testId: t.testId,
            configHash: spec.configHash,
            executor: this.deps.executor.kind,
            jobId: job.jobId,
            jobDir: job.jobDir,
            pid: job.pid,
            state: 'PENDING',
            runId: this.runId,
            submittedAt: job.submittedAt,
            updatedAt: now,
            consumed: false,
          });
        });
        this.log(`${t.testId}: submitted job ${job.jobId}`);
      }
      if (this.closed || this.interrupted) {
        await this.deps.executor.cancel([t.job]);
        throw new Error(this.interrupted ?? 'the test run ended');
      }
      t.phase = 'live';
      this.schedulePoll(this.deps.settings.pollMinMs);
    } catch (err) {
      t.phase = 'done';
      t.result.reject(err instanceof Error ? err : new Error(String(err)));
      this.pump();
    }
  }

  private pollInterval(): number {
    const { pollMinMs, pollMaxMs } = this.deps.settings;
    // Young jobs are polled fast (short jobs finish quickly); long jobs back off, up to pollMaxMs.
    let youngest = Infinity;
    for (const t of this.tracked.values()) {
      if (t.phase === 'live' && t.job)
        youngest = Math.min(youngest, Date.now() - Date.parse(t.job.submittedAt));
    }
    if (!Number.isFinite(youngest)) return pollMaxMs;
    return Math.min(pollMaxMs, Math.max(pollMinMs, youngest / 10));
  }

  /** One pending tick at a time: jobs submitted in a burst are all picked up by the same poll. */
  private schedulePoll(delay: number): void {
    if (this.closed || this.ticking || this.timer) return;
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const live = [...this.tracked.values()].filter((t) => t.phase === 'live' && t.job);
    if (!live.length) return;
    this.ticking = true;
    try {
      this.pollCalls++;
      const statuses = await this.deps.executor.poll(live.map((t) => t.job as SubmittedJob));
      this.pollFailures = 0;
      const changed: Tracked[] = [];
      for (const t of live) {
        const status = statuses.get((t.job as SubmittedJob).jobId);
        if (!status) continue;
        if (status.state !== t.status?.state) changed.push(t);
        if (status.state === 'RUNNING' && t.runningSince === undefined) t.runningSince = Date.now();
        t.status = status;
      }
      if (changed.length) await this.recordStates(changed);
      for (const t of live) {
        if (t.status && TERMINAL_STATES.has(t.status.state)) void this.collect(t);
        else if (t.status?.state === 'RUNNING') await this.scan(t);
      }
    } catch (err) {
      this.pollFailures++;
      this.log(`poll failed (${this.pollFailures}/${MAX_POLL_FAILURES}): ${(err as Error).message}`);
      if (this.pollFailures >= MAX_POLL_FAILURES) {
        for (const t of live) {
          t.phase = 'done';
          t.result.reject(new Error(`could not poll job ${t.job?.jobId}: ${(err as Error).message}`));
        }
      }
    } finally {
      this.ticking = false;
    }
    this.schedulePoll(this.pollInterval());
  }

  private async scan(t: Tracked): Promise<void> {
    const every = this.deps.settings.scanEveryMs ?? SCAN_EVERY_MS;
    if (t.earlyFailure || Date.now() - t.lastScanAt < every || !t.job) return;
    t.lastScanAt = Date.now();
    try {
      const fatal = await this.deps.executor.scanEarlyFailure(t.job);
      if (fatal) {
        t.earlyFailure = fatal;
        this.log(`${t.testId}: early failure, cancelling job ${t.job.jobId}: ${fatal}`);
        await this.deps.executor.cancel([t.job]);
      }
    } catch (err) {
      this.log(`${t.testId}: early-failure scan failed: ${(err as Error).message}`);
    }
  }

  private async recordStates(changed: Tracked[]): Promise<void> {
    const now = new Date().toISOString();
    const byId = new Map(changed.map((t) => [(t.job as SubmittedJob).jobId, t]));
    await this.deps.ledger.update((data) => {
      for (const j of data.jobs) {
        const t = byId.get(j.jobId);
        if (!t || j.testId !== t.testId || !t.status) continue;
        j.state = t.status.state;
        j.exitCode = t.status.exitCode;
        j.reason = t.earlyFailure ?? t.status.reason;
        j.updatedAt = now;
        if (TERMINAL_STATES.has(t.status.state)) j.endedAt = now;
      }
    });
  }

  private async collect(t: Tracked): Promise<void> {
    if (t.phase !== 'live' || !t.job || !t.spec || !t.status) return;
    t.phase = 'collecting';
    const { job, spec, status } = t;
    try {
      await this.deps.executor.fetchLogs(job, spec.localLogDir);
      const outcome: JobOutcome = {
        testId: t.testId,
        jobId: job.jobId,
        state: status.state,
        exitCode: status.exitCode,
        reason: status.reason,
        logDir: spec.localLogDir,
        earlyFailure: t.earlyFailure,
        resumed: t.resumed,
        submittedAt: job.submittedAt,
        endedAt: new Date().toISOString(),
      };
      if (status.state !== 'COMPLETED' || t.earlyFailure) outcome.logTail = await this.logTail(outcome);
      await this.deps.ledger.update((data) => {
        const j = data.jobs.find((x) => x.jobId === job.jobId && x.testId === t.testId);
        if (j) j.consumed = true;
      });
      t.phase = 'done';
      t.result.resolve(outcome);
    } catch (err) {
      t.phase = 'done';
      t.result.reject(
        new Error(
          `job ${job.jobId} ended (${status.state}) but its logs could not be collected: ${(err as Error).message}`,
        ),
      );
    }
    this.pump();
  }

  /** The last lines of the job's own stderr/stdout: what a person looks at first when a job failed. */
  private async logTail(outcome: JobOutcome): Promise<string> {
    const parts: string[] = [];
    for (const name of [slurmErrFile(outcome.jobId), slurmOutFile(outcome.jobId)]) {
      const lines = lastLines(await readTail(path.join(outcome.logDir, name), 16 * 1024), 20);
      if (lines.length) parts.push(`--- ${name} (last ${lines.length} lines) ---\n${lines.join('\n')}`);
    }
    return parts.join('\n');
  }
}
