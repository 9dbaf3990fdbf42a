import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, isRetryable, SettingsError } from '../errors.js';
import type { DoneWatcher, Executor } from '../executors/types.js';
import {
  TERMINAL_STATES,
  type JobOutcome,
  type JobSpec,
  type JobStatus,
  type SubmittedJob,
} from '../types.js';
import { readTail, lastLines } from '../util/tail.js';
import { BrokerEvents, logEvents } from './events.js';
import { claimRunId, linkLatest, newRunId } from './job-dirs.js';
import { Ledger, type LedgerIntent, type LedgerJob } from './ledger.js';
import { recordInLedger } from './ledger-recorder.js';
import {
  heldNotice,
  NEVER_START_GRACE_MS,
  neverStartMessage,
  neverStartNotice,
  NeverStartWatch,
} from './never-start.js';
import { jobsLeftMessage, POLL_GIVE_UP_MS, pollFailedNotice, pollGiveUpReason } from './poll-give-up.js';
import { readBenchProgress } from './progress.js';
import { RunLock } from './run-lock.js';
import {
  adoptedJob,
  dropIntent,
  newSubmitToken,
  reconcileIntents,
  recordIntent,
  recordJob,
  withRetries,
} from './write-ahead.js';
import { slurmErrFile, slurmOutFile } from '../jobdir/files.js';

export interface BrokerSettings {
  /** 0 = unlimited. */
  maxJobsInFlight: number;
  pollMinMs: number;
  pollMaxMs: number;
  resume: boolean;
  /** How often a running job's worker logs are scanned for fatal errors (default 10 s). */
  scanEveryMs?: number;
  /** Submissions of one job after a retryable submit error (default 3); other errors fail the test at once. */
  submitAttempts?: number;
  /** Wait before the first retry, doubled for each next one (default 5 s). */
  submitRetryDelayMs?: number;
  /** How long a job may sit in a never-start pending reason before it is cancelled (default 60 s). */
  neverStartGraceMs?: number;
  /** How long polling may keep failing before the run cancels its jobs (default 10 min). */
  pollGiveUpMs?: number;
  /**
   * Tick interval once the executor's done-marker watcher has seen a marker of this run and watches
   * every live job: the scheduler is then only asked as a safety net (default 60 s).
   */
  safetyPollMs?: number;
  /** Wait between seeing a job's marker and polling it: the job script still has to exit (default 1 s). */
  markerSettleMs?: number;
  /** Writes of a submitted job's ledger entry before the job is cancelled instead (default 3). */
  ledgerAttempts?: number;
  /** Wait between those writes (default 2 s). */
  ledgerRetryDelayMs?: number;
}

export interface BrokerDeps {
  executor: Executor;
  ledger: Ledger;
  settings: BrokerSettings;
  /** Builds the job for a test, or throws a clear error (invalid config, unresolved placeholder…). */
  specFor: (testId: string) => Promise<JobSpec>;
  /** This run's id (`newRunId()`): the specs' run dirs must use the same one. */
  runId?: string;
  /** Prints the broker's log lines (a subscriber of `events`). */
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
  /** Why this run cancelled the job, once the executor confirmed the cancel. */
  cancelledBy?: string;
  earlyFailure?: string;
  /** When its completion marker was seen (ms): it is polled soon, and again until it is final. */
  markerSeenAt?: number;
  /** Polls since the marker was seen that did not find the job final yet (they back off). */
  markerFollowUps?: number;
  /** When the job was first seen RUNNING (ms): its age decides how fast it is polled. */
  runningSince?: number;
  /** When the current state was first seen (ISO 8601). */
  stateSince?: string;
  /** Last benchmark progress reported, to emit `progress` only when it changed. */
  progressKey?: string;
  lastScanAt: number;
  result: Deferred<JobOutcome>;
}

/** The error of a submit that surely made no job: its write-ahead intent can be dropped. */
function markNoJob(err: unknown): void {
  if (typeof err === 'object' && err !== null) (err as { noJob?: boolean }).noJob = true;
}

/** Non-terminal states a re-attached job may be in; a cancelled or failed one is submitted afresh. */
const REATTACHABLE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'COMPLETED']);
const SCAN_EVERY_MS = 10_000;
const SUBMIT_ATTEMPTS = 3;
const SUBMIT_RETRY_DELAY_MS = 5_000;
const SAFETY_POLL_MS = 60_000;
const MARKER_SETTLE_MS = 1_000;
const LEDGER_ATTEMPTS = 3;
const LEDGER_RETRY_DELAY_MS = 2_000;

/**
 * The one job broker of a run, in the Vitest main process. It submits jobs (up front, bounded by
 * maxJobsInFlight), polls all live jobs with one executor call per tick, scans worker logs for fatal
 * errors, collects logs, and hands each test its outcome. Every job is in the ledger, so a crashed run's
 * jobs are re-attached by the next run instead of submitted twice. What happens to jobs is told through
 * `events` (the ledger and the log lines are subscribers too).
 */
export class JobBroker {
  readonly runId: string;
  readonly events = new BrokerEvents();
  private readonly tracked = new Map<string, Tracked>();
  private readonly order: string[] = [];
  private resumable = new Map<string, LedgerJob>();
  private timer?: NodeJS.Timeout;
  /** When the pending tick fires (ms) and whether a seen marker asked for it. */
  private timerDue = 0;
  private timerByMarker = false;
  private ticking = false;
  /** The executor's done-marker watcher: undefined = not asked yet, null = it has none. */
  private watcher?: DoneWatcher | null;
  private watcherMade?: Promise<DoneWatcher | null>;
  /** Scans running jobs' logs between slowed ticks (early failure, progress need no scheduler call). */
  private scanTimer?: NodeJS.Timeout;
  private scanning = false;
  /** A completion marker of this run was seen: the watcher works here, the tick may slow down. */
  private markerSeen = false;
  private pollFailures = 0;
  /** When the current streak of failed polls began (ms). */
  private pollFailingSince?: number;
  private readonly neverStart: NeverStartWatch;
  private closed = false;
  /** Set by Ctrl-C/SIGTERM: nothing new is submitted after it. */
  private interrupted?: string;
  private started?: Promise<void>;
  private activated?: Promise<void>;
  private planned: readonly string[] = [];
  /** This run's hold on OUTPUT_PATH (one run per output dir at a time). */
  private runLock?: RunLock;
  /** Submissions under way (`submit` never rejects: a failure fails its test). */
  private readonly submitting = new Set<Promise<void>>();
  /** Number of executor.poll calls, for the benchmark and tests. */
  pollCalls = 0;
  /** Of those, the polls a seen completion marker asked for (the rest are ticks). */
  markerPolls = 0;
  /** Submissions of this run so far (numbers the write-ahead tokens). */
  private submissions = 0;
  /** Jobs found by their write-ahead token at start: re-attachable whatever became of their run. */
  private readonly adopted = new Set<string>();

  constructor(private readonly deps: BrokerDeps) {
    this.runId = deps.runId ?? newRunId();
    this.neverStart = new NeverStartWatch(deps.settings.neverStartGraceMs ?? NEVER_START_GRACE_MS);
    recordInLedger(this.events, deps.ledger, this.runId);
    deps.ledger.onNotice = (message) => void this.events.emit('notice', { message }).catch(() => undefined);
    if (deps.log) logEvents(this.events, deps.log);
  }

  private log(message: string): void {
    void this.events.emit('notice', { message }).catch(() => undefined);
  }

  /** Settle a test's job with an error, telling subscribers. */
  private fail(t: Tracked, error: Error): void {
    this.unwatch(t);
    t.phase = 'done';
    t.result.reject(error);
    void this.events
      .emit('final', { testId: t.testId, ok: false, jobId: t.job?.jobId, error: error.message })
      .catch(() => undefined);
  }

  /** Record this run in the ledger and find a crashed run's jobs (called on the first `run`). */
  start(): Promise<void> {
    return (this.started ??= this.open());
  }

  private async open(): Promise<void> {
    const { executor, ledger, settings } = this.deps;
    // Only now (not in the constructor): `vitest list` builds a broker too, and must leave no trace.
    // A second run on the same OUTPUT_PATH refuses here, before it touches a job dir or the ledger.
    this.runLock = RunLock.acquire(ledger.outputPath, this.runId, (message) => this.log(message));
    claimRunId(ledger.outputPath, this.runId);
    await this.reconcile();
    await ledger.update((data) => {
      const crashed = new Set(Ledger.crashedRuns(data).map((r) => r.id));
      for (const job of data.jobs) {
        if (
          settings.resume &&
          (crashed.has(job.runId) || this.adopted.has(job.jobId)) &&
          job.executor === executor.kind &&
          REATTACHABLE.has(job.state) &&
          // A job a test already judged is never judged again (its CSV rows exist).
          !job.consumed
        ) {
          this.resumable.set(job.testId, { ...job });
          // This run takes the job over in the write that ends the crashed run: if this run dies too
          // before re-attaching it, the next run still finds it (a job of an ended run is never resumed).
          job.runId = this.runId;
        }
      }
      for (const run of data.runs) if (crashed.has(run.id)) run.endedAt = new Date().toISOString();
      data.runs.push({ id: this.runId, pid: process.pid, startedAt: new Date().toISOString() });
    });
    if (this.resumable.size)
      await this.events.emit('notice', {
        message: `${this.resumable.size} job(s) of a crashed run can be re-attached`,
      });
  }

  /**
   * Intents left by dead runs (killed between recording an intent and recording its job): the scheduler
   * says, in one query, which have a job; those are recorded and then re-attached like any crashed
   * run's job, the others are submitted afresh.
   */
  private async reconcile(): Promise<void> {
    const { executor, ledger } = this.deps;
    let r: Awaited<ReturnType<typeof reconcileIntents>>;
    try {
      r = await reconcileIntents(ledger, executor);
    } catch (err) {
      throw new Error(
        `${ledger.file}: a crashed run left submissions in doubt, and the scheduler could not be asked ` +
          `whether they made jobs (${(err as Error).message}); rerun when it answers (submitting now could ` +
          `start these jobs twice)`,
        { cause: err },
      );
    }
    for (const job of r.adopted) this.adopted.add(job.jobId);
    for (const job of r.adopted)
      await this.events.emit('notice', {
        message: `${job.testId}: found job ${job.jobId} (${job.state}) submitted by crashed run ${job.runId} but missing from the ledger; adopted it`,
      });
    if (r.dropped.length)
      await this.events.emit('notice', {
        message: `${r.dropped.length} submission(s) of a crashed run made no job; they are submitted afresh`,
      });
    if (r.unchecked.length)
      await this.events.emit('notice', {
        message:
          `executor ${executor.kind} cannot look jobs up by token: ${r.unchecked.map((i) => i.testId).join(', ')} ` +
          `may have a job from a crashed run that the ledger does not list`,
      });
  }

  /** Submit these tests' jobs up front (the main process knows the scheduled set before workers start). */
  schedule(testIds: readonly string[]): void {
    for (const id of testIds) this.track(id);
    this.pump();
  }

  /**
   * The jobs to submit on `submitPlanned` (the global setup of a run) or when the first test asks for one.
   * Not on a collection: `vitest list` runs the global setup too, and must neither submit jobs nor touch
   * the ledger (a crashed run's jobs wait for a real run).
   */
  plan(testIds: readonly string[]): void {
    this.planned = testIds;
  }

  /**
   * Submit the planned jobs now, without waiting for a test to ask (the same start as the first `run`);
   * resolves when the first wave of submissions has settled (each submitted or failed).
   */
  async submitPlanned(): Promise<void> {
    await this.ensureStarted();
    await Promise.allSettled([...this.submitting]);
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

  /** A test judged its job and wrote its results: the job is consumed (never re-attached). */
  async consumed(testId: string, jobId: string): Promise<void> {
    await this.events.emit('consumed', { testId, jobId });
  }

  /** A test was aborted: cancel its job. */
  async cancel(testId: string): Promise<void> {
    const t = this.tracked.get(testId);
    if (!t) return;
    if (t.phase === 'queued') {
      this.fail(t, new Error('cancelled before submission'));
      return;
    }
    if (t.job && t.phase === 'live' && !t.cancelRequested)
      await this.cancelTracked([t], `test ${testId} was aborted`);
  }

  /**
   * Cancel these tests' jobs: told first (the log line comes before a possibly slow scancel, as people
   * expect), then cancelled, then CANCELLED in the ledger. Throws what the cancel threw.
   */
  private async cancelTracked(ts: Tracked[], reason: string): Promise<void> {
    for (const t of ts) t.cancelRequested = true;
    const told = this.events.emit('cancel', { jobIds: ts.map((t) => (t.job as SubmittedJob).jobId), reason });
    try {
      await this.cancelJobs(ts, reason);
    } catch (err) {
      // The cancel's own error is what the caller must tell.
      await told.catch(() => undefined);
      throw err;
    }
    await told;
    await this.markCancelled(ts, reason);
  }

  /**
   * Ask the executor to cancel; who cancelled is known before, so a poll that sees the end meanwhile
   * keeps the reason. A cancel that failed leaves the jobs as they were.
   */
  private async cancelJobs(ts: Tracked[], reason: string): Promise<void> {
    for (const t of ts) t.cancelledBy = reason;
    try {
      await this.deps.executor.cancel(ts.map((t) => t.job as SubmittedJob));
    } catch (err) {
      for (const t of ts) t.cancelledBy = undefined;
      throw err;
    }
  }

  /**
   * The executor cancelled these jobs: they are CANCELLED now, in the ledger too, even if the run ends
   * before the next poll would see it (else the ledger keeps them RUNNING and `disagg cancel` cancels
   * them again). A final state the scheduler reports later (the job had just completed) wins.
   */
  private async markCancelled(ts: Tracked[], reason: string): Promise<void> {
    const changed: Array<{ t: Tracked; previous?: JobStatus }> = [];
    for (const t of ts) {
      if (!t.job || t.cancelledBy !== reason || (t.status && TERMINAL_STATES.has(t.status.state))) continue;
      const previous = t.status;
      t.status = { jobId: t.job.jobId, state: 'CANCELLED', reason };
      t.stateSince = new Date().toISOString();
      changed.push({ t, previous });
    }
    if (changed.length) await this.emitStates(changed);
  }

  /** Ctrl-C or SIGTERM: cancel every job of this run and submit nothing more. */
  interrupt(reason: string): Promise<string[]> {
    this.interrupted = reason;
    return this.cancelAll(reason);
  }

  /** Cancel every job of this run that is still queued or live (Ctrl-C, SIGTERM, end of run). */
  async cancelAll(reason: string, only: (t: Tracked) => boolean = () => true): Promise<string[]> {
    const cancelled: Tracked[] = [];
    for (const t of this.tracked.values()) {
      if (!only(t)) continue;
      if (t.phase === 'queued') {
        this.fail(t, new Error(`not submitted: ${reason}`));
      } else if (t.job && !t.cancelRequested && (t.phase === 'live' || t.phase === 'submitting')) {
        t.cancelRequested = true;
        cancelled.push(t);
      }
    }
    if (cancelled.length) await this.cancelTracked(cancelled, reason);
    return cancelled.map((t) => (t.job as SubmittedJob).jobId);
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
    // A ledger that could not be opened is not touched again: its error was told, and must not hang the end.
    const opened = await this.started.then(
      () => true,
      () => false,
    );
    this.closed = true;
    await this.cancelAll('the test run ended before these tests asked for their job', (t) => !t.requested);
    await this.cancelAll('the test run ended');
    if (this.timer) clearTimeout(this.timer);
    if (this.scanTimer) clearInterval(this.scanTimer);
    await this.watcher?.close();
    try {
      if (opened)
        await this.deps.ledger.update((data) => {
          const run = data.runs.find((r) => r.id === this.runId);
          if (run) run.endedAt = new Date().toISOString();
        });
    } finally {
      this.runLock?.release();
    }
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
        this.fail(t, new Error(`not submitted: ${this.interrupted}`));
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
      const submitting = this.submit(t);
      this.submitting.add(submitting);
      void submitting.finally(() => this.submitting.delete(submitting));
    }
  }

  private async submit(t: Tracked): Promise<void> {
    try {
      const spec = await this.deps.specFor(t.testId);
      t.spec = spec;
      const previous = this.resumable.get(t.testId);
      let submittedByRun = this.runId;
      if (previous && previous.configHash === spec.configHash) {
        this.resumable.delete(t.testId);
        t.job = {
          jobId: previous.jobId,
          testId: t.testId,
          jobDir: previous.jobDir,
          pid: previous.pid,
          procId: previous.procId,
          submittedAt: previous.submittedAt,
        };
        t.resumed = true;
        submittedByRun = previous.runId;
        // A re-attached job's logs go to the dir its own run chose, not to a new one.
        if (previous.localLogDir) t.spec = { ...spec, localLogDir: previous.localLogDir };
      } else {
        t.job = await this.submitWriteAhead(t, spec);
      }
      const job = t.job;
      this.linkLatest(t);
      await this.events.emit('submitted', {
        testId: t.testId,
        jobId: job.jobId,
        executor: this.deps.executor.kind,
        configHash: spec.configHash,
        jobDir: job.jobDir,
        logDir: t.spec.localLogDir,
        timeLimitMs: t.spec.timeLimitMs,
        pid: job.pid,
        procId: job.procId,
        resumed: t.resumed,
        submittedByRun,
        submittedAt: job.submittedAt,
      });
      if (this.closed || this.interrupted) {
        // cancelAll may have cancelled it already while the ledger write above was under way.
        if (!t.cancelRequested) await this.deps.executor.cancel([job]);
        throw new Error(this.interrupted ?? 'the test run ended');
      }
      t.phase = 'live';
      await this.watch(t);
      this.startScans();
      // Sooner than a pending safety tick when this job is not watched.
      this.pollWithin(this.slowed() ? this.pollInterval() : this.deps.settings.pollMinMs);
    } catch (err) {
      this.fail(t, err instanceof Error ? err : new Error(String(err)));
      this.pump();
    }
  }

  /**
   * The write-ahead submission: intent (with a fresh token) in the ledger, then the submit, then the job's
   * entry replacing the intent. A job whose entry cannot be written (lock held, EACCES, ENOSPC) after a
   * few tries is cancelled: never a live job nobody tracks.
   */
  private async submitWriteAhead(t: Tracked, spec: JobSpec): Promise<SubmittedJob> {
    const { ledger, executor } = this.deps;
    const token = newSubmitToken(this.runId, ++this.submissions);
    const tokenSpec: JobSpec = { ...spec, submitToken: token };
    t.spec = tokenSpec;
    await recordIntent(ledger, this.intentFor(t, spec, token));
    let job: SubmittedJob;
    try {
      job = await this.submitWithRetries(t, tokenSpec);
    } catch (err) {
      // The submit surely made no job (the scheduler was asked in submitWithRetries): forget the intent.
      // A failed write leaves it for the next start to reconcile.
      if ((err as { noJob?: boolean }).noJob) await dropIntent(ledger, token).catch(() => undefined);
      throw err;
    }
    t.job = job;
    const attempts = Math.max(1, this.deps.settings.ledgerAttempts ?? LEDGER_ATTEMPTS);
    try {
      await withRetries(
        () =>
          recordJob(
            ledger,
            {
              testId: t.testId,
              configHash: spec.configHash,
              executor: executor.kind,
              jobId: job.jobId,
              jobDir: job.jobDir,
              localLogDir: spec.localLogDir,
              ...(job.pid !== undefined ? { pid: job.pid } : {}),
              ...(job.procId !== undefined ? { procId: job.procId } : {}),
              state: 'PENDING',
              runId: this.runId,
              submittedAt: job.submittedAt,
              updatedAt: new Date().toISOString(),
              consumed: false,
            },
            token,
          ),
        attempts,
        this.deps.settings.ledgerRetryDelayMs ?? LEDGER_RETRY_DELAY_MS,
      );
    } catch (err) {
      const why = `the ledger ${ledger.file} could not be written after ${attempts} attempts (${(err as Error).message})`;
      t.cancelRequested = true;
      const reason = `job ${job.jobId} was cancelled: ${why}, and a job the ledger does not list would be left behind`;
      try {
        await executor.cancel([job]);
      } catch (cancelErr) {
        throw new Error(
          `job ${job.jobId} could NOT be cancelled after ${why}: cancel it by hand ` +
            `(${(cancelErr as Error).message})`,
        );
      }
      t.job = undefined;
      throw new Error(reason);
    }
    return job;
  }

  /** The write-ahead record of one submission of this run. */
  private intentFor(t: Tracked, spec: JobSpec, token: string): LedgerIntent {
    return {
      token,
      testId: t.testId,
      runId: this.runId,
      executor: this.deps.executor.kind,
      configHash: spec.configHash,
      localLogDir: spec.localLogDir,
      createdAt: new Date().toISOString(),
    };
  }

  /**
   * A submit failed in a way that may still have made a job (lost link, timeout, unreadable output): ask
   * the scheduler by token. Returns the job when it exists; marks the error `noJob` when it surely does not.
   */
  private async jobAfterDoubt(t: Tracked, spec: JobSpec, err: unknown): Promise<SubmittedJob | undefined> {
    const token = spec.submitToken;
    const executor = this.deps.executor;
    // Bad input is refused before anything reaches the scheduler.
    if (err instanceof ConfigError || err instanceof SettingsError) {
      markNoJob(err);
      return undefined;
    }
    if (!token || !executor.reconcile) return undefined;
    let found;
    try {
      found = await executor.reconcile([token]);
    } catch (e) {
      this.log(`${t.testId}: could not ask the scheduler for job ${token}: ${(e as Error).message}`);
      return undefined;
    }
    const job = found?.get(token);
    if (!found) return undefined;
    if (!job) {
      markNoJob(err);
      return undefined;
    }
    this.log(
      `${t.testId}: the submit failed (${(err as Error).message}) but made job ${job.jobId}; using it`,
    );
    const entry = adoptedJob(this.intentFor(t, spec, token), job, new Date().toISOString());
    return {
      jobId: entry.jobId,
      testId: t.testId,
      jobDir: entry.jobDir,
      pid: entry.pid,
      procId: entry.procId,
      submittedAt: entry.submittedAt,
    };
  }

  /**
   * Submit a job; only a retryable error (a QOS limit, a lost link: `isRetryable`) is tried again, after
   * a growing wait. A config or settings error, or any other, fails the test at once.
   */
  private async submitWithRetries(t: Tracked, spec: JobSpec): Promise<SubmittedJob> {
    const attempts = Math.max(1, this.deps.settings.submitAttempts ?? SUBMIT_ATTEMPTS);
    let delay = this.deps.settings.submitRetryDelayMs ?? SUBMIT_RETRY_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.executor.submit(spec);
      } catch (err) {
        const existing = await this.jobAfterDoubt(t, spec, err);
        if (existing) return existing;
        if (attempt >= attempts || !isRetryable(err) || this.closed || this.interrupted) throw err;
        this.log(
          `${t.testId}: submit failed (attempt ${attempt}/${attempts}), retrying in ${Math.round(delay / 1000)} s: ` +
            (err as Error).message,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
        if (this.closed || this.interrupted) throw err;
      }
    }
  }

  /** `slurm_logs/<test>` now means this run's dir; a failure to link is told, never fatal. */
  private linkLatest(t: Tracked): void {
    if (!t.spec) return;
    try {
      linkLatest(t.spec.localLogDir);
    } catch (err) {
      this.log(`${t.testId}: could not link the latest log dir: ${(err as Error).message}`);
    }
  }

  private pollInterval(): number {
    return Math.min(this.tickInterval(), this.markerInterval());
  }

  /** The tick without markers: the safety interval once slowed, else the back-off. */
  private tickInterval(): number {
    return this.slowed() ? (this.deps.settings.safetyPollMs ?? SAFETY_POLL_MS) : this.backOffInterval();
  }

  /**
   * The tick may wait the safety interval: a marker of this run was seen (the watcher works where the
   * jobs write) and every live job is watched or has shown its marker.
   */
  private slowed(): boolean {
    if (!this.markerSeen || !this.watcher) return false;
    for (const t of this.tracked.values()) {
      if (t.phase !== 'live' || !t.job || t.markerSeenAt !== undefined) continue;
      if (!this.watcher.watching(t.job.jobId)) return false;
    }
    return true;
  }

  /** Jobs whose marker was seen are polled after the settle time, then again (backing off) until final. */
  private markerInterval(): number {
    const settle = this.deps.settings.markerSettleMs ?? MARKER_SETTLE_MS;
    let next = Infinity;
    for (const t of this.tracked.values()) {
      if (t.phase !== 'live' || t.markerSeenAt === undefined) continue;
      const wait = Math.min(this.deps.settings.pollMaxMs, settle * 2 ** (t.markerFollowUps ?? 0));
      next = Math.min(next, Math.max(0, t.markerSeenAt + wait - Date.now()));
    }
    return next;
  }

  private backOffInterval(): number {
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
  private schedulePoll(delay: number, byMarker = false): void {
    if (this.closed || this.ticking || this.timer) return;
    this.timerDue = Date.now() + delay;
    this.timerByMarker = byMarker;
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  /** Ask the executor for this job's watcher (once per run) and watch the job's markers. */
  private async watch(t: Tracked): Promise<void> {
    if (!t.job || !this.deps.executor.watchDone) return;
    this.watcherMade ??= this.deps.executor
      .watchDone(
        (jobId) => this.markerSeenFor(jobId),
        // Jobs not watched for a while: back to the back-off tick instead of a pending safety tick.
        () => this.pollWithin(this.backOffInterval()),
      )
      .then(
        (w) => (this.watcher = w ?? null),
        (err: unknown) => {
          this.log(`no done-marker watcher (the poll tick alone sees jobs end): ${(err as Error).message}`);
          return (this.watcher = null);
        },
      );
    const w = await this.watcherMade;
    if (w && t.phase === 'live' && !this.closed) w.add(t.job);
  }

  private unwatch(t: Tracked): void {
    if (t.job && this.watcher) this.watcher.remove(t.job.jobId);
  }

  /** A job's completion marker appeared: poll soon (after the settle time) instead of at the next tick. */
  private markerSeenFor(jobId: string): void {
    const t = [...this.tracked.values()].find((x) => x.job?.jobId === jobId);
    if (!t || t.phase !== 'live' || t.markerSeenAt !== undefined) return;
    t.markerSeenAt = Date.now();
    this.markerSeen = true;
    this.pollWithin(this.deps.settings.markerSettleMs ?? MARKER_SETTLE_MS, true);
  }

  /** Poll within `delay` ms: moves a later pending tick forward (a tick in progress is followed by one). */
  private pollWithin(delay: number, byMarker = false): void {
    if (this.closed) return;
    // A tick in progress schedules the next one itself (from the jobs' markers) when it ends.
    if (this.ticking) return;
    if (this.timer) {
      if (this.timerDue <= Date.now() + delay) {
        // The pending tick comes sooner anyway: it is the poll this marker asked for.
        if (byMarker) this.timerByMarker = true;
        return;
      }
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedulePoll(delay, byMarker);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const byMarker = this.timerByMarker;
    this.timerByMarker = false;
    const startedAt = Date.now();
    const live = [...this.tracked.values()].filter((t) => t.phase === 'live' && t.job);
    if (!live.length) return;
    this.ticking = true;
    try {
      this.pollCalls++;
      if (byMarker) this.markerPolls++;
      const statuses = await this.deps.executor.poll(live.map((t) => t.job as SubmittedJob));
      this.pollFailures = 0;
      this.pollFailingSince = undefined;
      const changed: Array<{ t: Tracked; previous?: JobStatus }> = [];
      for (const t of live) {
        let status = statuses.get((t.job as SubmittedJob).jobId);
        // A job this run cancelled stays CANCELLED until the scheduler reports its end (squeue may
        // still say RUNNING for a moment after scancel), and keeps saying who cancelled it.
        if (!status || (t.cancelledBy && !TERMINAL_STATES.has(status.state))) continue;
        if (t.cancelledBy && status.state === 'CANCELLED') status = { ...status, reason: t.cancelledBy };
        const previous = t.status;
        if (status.state !== previous?.state) t.stateSince = new Date().toISOString();
        if (status.state !== previous?.state || status.reason !== previous?.reason)
          changed.push({ t, previous });
        if (status.state === 'RUNNING' && t.runningSince === undefined) t.runningSince = Date.now();
        t.status = status;
      }
      if (changed.length) await this.emitStates(changed);
      await this.watchNeverStart(live);
      for (const t of live) {
        if (t.phase !== 'live') continue;
        if (t.status && TERMINAL_STATES.has(t.status.state)) void this.collect(t);
        else if (t.status?.state === 'RUNNING') await this.scan(t);
      }
    } catch (err) {
      await this.pollFailed(live, err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.ticking = false;
    }
    for (const t of live) {
      // The marker came a moment before the job's end reached the scheduler (or the poll failed): ask
      // again, later each time. A marker seen during this poll still gets its first poll.
      if (t.phase === 'live' && t.markerSeenAt !== undefined && t.markerSeenAt <= startedAt) {
        t.markerFollowUps = (t.markerFollowUps ?? 0) + 1;
        t.markerSeenAt = Date.now();
      }
    }
    const byMarkers = this.markerInterval();
    const tick = this.tickInterval();
    this.schedulePoll(Math.min(byMarkers, tick), byMarkers < tick);
  }

  /**
   * While the tick waits the safety interval, running jobs are still scanned every `scanEveryMs`
   * (a fatal worker log cancels its job as early as before); `scan` skips a job scanned recently.
   */
  private startScans(): void {
    if (this.scanTimer || this.closed) return;
    this.scanTimer = setInterval(() => {
      if (this.scanning || this.ticking || !this.slowed()) return;
      this.scanning = true;
      const running = [...this.tracked.values()].filter(
        // A job PENDING at the last (slow) tick may be running by now: scanning it costs one read.
        (t) =>
          t.phase === 'live' &&
          t.markerSeenAt === undefined &&
          !(t.status && TERMINAL_STATES.has(t.status.state)),
      );
      void (async () => {
        for (const t of running) if (t.phase === 'live') await this.scan(t);
      })().finally(() => (this.scanning = false));
    }, this.deps.settings.scanEveryMs ?? SCAN_EVERY_MS);
    this.scanTimer.unref();
  }

  /** Tell never-startable and held jobs once; cancel a never-startable one after its grace period. */
  private async watchNeverStart(live: Tracked[]): Promise<void> {
    for (const t of live) {
      if (!t.job || !t.status || t.cancelRequested || t.phase !== 'live') continue;
      const step = this.neverStart.observe(t.job.jobId, t.status.state, t.status.reason);
      if (step?.kind === 'noticed')
        this.log(neverStartNotice(t.testId, t.job.jobId, step.reason, this.neverStart.graceText()));
      else if (step?.kind === 'held') this.log(heldNotice(t.testId, t.job.jobId, step.reason));
      else if (step?.kind === 'due') await this.cancelNeverStartable(t, step.reason);
    }
  }

  /** Ask the scheduler for the limit (it may also say the job can start after all), cancel, fail the test. */
  private async cancelNeverStartable(t: Tracked, reason: string): Promise<void> {
    const job = t.job as SubmittedJob;
    let explained: { never: boolean; detail?: string } = { never: true };
    try {
      explained = (await this.deps.executor.explainPending?.(job, reason)) ?? explained;
    } catch (err) {
      this.log(`${t.testId}: could not read the limit behind ${reason}: ${(err as Error).message}`);
    }
    if (!explained.never) {
      this.neverStart.forget(job.jobId);
      return;
    }
    const message = neverStartMessage(reason, explained.detail, this.neverStart.graceText());
    try {
      await this.cancelTracked([t], message);
      this.fail(t, new Error(`job ${job.jobId} ${message}`));
    } catch (err) {
      const left = jobsLeftMessage(
        [job.jobId],
        this.deps.ledger.file,
        this.deps.ledger.outputPath,
        (err as Error).message,
      );
      this.log(`${t.testId}: ${left}`);
      this.fail(t, new Error(`job ${job.jobId} ${message}; but ${left}`));
    }
  }

  /**
   * A failed poll: told each time; once polls have failed for longer than the budget, the run gives up:
   * nothing more is submitted, its jobs are cancelled (or, if that fails too, named with the command
   * that cancels them) and the waiting tests fail saying why.
   */
  private async pollFailed(live: Tracked[], err: Error): Promise<void> {
    this.pollFailures++;
    const now = Date.now();
    this.pollFailingSince ??= now;
    const failingFor = now - this.pollFailingSince;
    const budget = this.deps.settings.pollGiveUpMs ?? POLL_GIVE_UP_MS;
    this.log(pollFailedNotice(this.pollFailures, failingFor, budget, err.message));
    if (failingFor < budget) return;
    const reason = pollGiveUpReason(failingFor, err.message);
    this.interrupted ??= reason;
    const jobs = live.filter((t) => t.job && !t.cancelRequested && t.phase === 'live');
    const ids = jobs.map((t) => (t.job as SubmittedJob).jobId);
    this.log(`${reason}: cancelling this run's job(s) ${ids.join(', ') || '(none)'}`);
    try {
      await this.cancelAll(reason);
      for (const t of jobs) this.fail(t, new Error(`job ${t.job?.jobId}: ${reason}; the job was cancelled`));
    } catch (cancelErr) {
      const left = jobsLeftMessage(
        ids,
        this.deps.ledger.file,
        this.deps.ledger.outputPath,
        (cancelErr as Error).message,
      );
      this.log(left);
      for (const t of jobs) this.fail(t, new Error(`job ${t.job?.jobId}: ${reason}; ${left}`));
    }
  }

  private async scan(t: Tracked): Promise<void> {
    const every = this.deps.settings.scanEveryMs ?? SCAN_EVERY_MS;
    if (t.earlyFailure || Date.now() - t.lastScanAt < every || !t.job) return;
    t.lastScanAt = Date.now();
    try {
      const fatal = await this.deps.executor.scanEarlyFailure(t.job);
      if (fatal) {
        t.earlyFailure = fatal;
        await this.events.emit('earlyFailure', { testId: t.testId, jobId: t.job.jobId, line: fatal });
        await this.deps.executor.cancel([t.job]);
        // Its end is asked for soon, not at a safety tick a minute away.
        this.pollWithin(this.deps.settings.pollMinMs);
        return;
      }
    } catch (err) {
      this.log(`${t.testId}: early-failure scan failed: ${(err as Error).message}`);
    }
    await this.progress(t);
  }

  /** Tell subscribers how far the benchmark got, when the job dir is readable here and it changed. */
  private async progress(t: Tracked): Promise<void> {
    if (!t.job || !fs.existsSync(t.job.jobDir)) return;
    try {
      const p = await readBenchProgress(t.job.jobDir);
      if (!p) return;
      const key = `${p.concurrency}|${p.concurrenciesDone.join(',')}`;
      if (key === t.progressKey) return;
      t.progressKey = key;
      await this.events.emit('progress', {
        testId: t.testId,
        jobId: t.job.jobId,
        concurrency: p.concurrency,
        concurrenciesDone: p.concurrenciesDone,
        at: new Date().toISOString(),
      });
    } catch (err) {
      this.log(`${t.testId}: progress scan failed: ${(err as Error).message}`);
    }
  }

  /** One `state` event per changed job, emitted together so the ledger writes them in one go. */
  private async emitStates(changed: Array<{ t: Tracked; previous?: JobStatus }>): Promise<void> {
    await Promise.all(
      changed.map(({ t, previous }) => {
        const status = t.status as JobStatus;
        return this.events.emit('state', {
          testId: t.testId,
          jobId: (t.job as SubmittedJob).jobId,
          state: status.state,
          previous: previous?.state,
          reason: status.reason,
          nodes: status.nodes,
          exitCode: status.exitCode,
          since: t.stateSince ?? new Date().toISOString(),
          ...(status.startedAt ? { startedAt: status.startedAt } : {}),
          ...(status.endedAt && TERMINAL_STATES.has(status.state) ? { endedAt: status.endedAt } : {}),
          terminal: TERMINAL_STATES.has(status.state),
        });
      }),
    );
  }

  private async collect(t: Tracked): Promise<void> {
    if (t.phase !== 'live' || !t.job || !t.spec || !t.status) return;
    this.unwatch(t);
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
        cancelledBy: status.state === 'CANCELLED' ? t.cancelledBy : undefined,
        submittedAt: job.submittedAt,
        endedAt: new Date().toISOString(),
      };
      if (status.state !== 'COMPLETED' || t.earlyFailure) outcome.logTail = await this.logTail(outcome);
      await this.events.emit('final', {
        testId: t.testId,
        ok: true,
        jobId: job.jobId,
        state: status.state,
        exitCode: status.exitCode,
        outcome,
      });
      t.phase = 'done';
      t.result.resolve(outcome);
    } catch (err) {
      this.fail(
        t,
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
