import path from 'node:path';
import type { DoneWatcher } from '../executors/types.js';
import { slurmErrFile, slurmOutFile } from '../jobdir/files.js';
import { TERMINAL_STATES, type JobOutcome, type JobStatus, type SubmittedJob } from '../types.js';
import { readTail, lastLines } from '../util/tail.js';
import { BrokerEvents, logEvents, type StateEvent } from './events.js';
import { claimRunId, linkLatest, newRunId } from './job-dirs.js';
import type { LedgerJob } from './ledger.js';
import { recordInLedger } from './ledger-recorder.js';
import {
  heldNotice,
  NEVER_START_GRACE_MS,
  neverStartMessage,
  neverStartNotice,
  NeverStartWatch,
} from './never-start.js';
import { backOffIntervalOf, markerIntervalOf, slowedOver } from './poll-cadence.js';
import { jobsLeftMessage, POLL_GIVE_UP_MS, pollFailedNotice, pollGiveUpReason } from './poll-give-up.js';
import { reconcileAtStart, startRun } from './resume.js';
import { RunLock } from './run-lock.js';
import { Submitter } from './submission.js';
import { LogScans } from './log-scans.js';
import { TickBudget } from './tick-budget.js';
import {
  deferred,
  MARKER_SETTLE_MS,
  SAFETY_POLL_MS,
  SCAN_EVERY_MS,
  STATE_SLICE,
  TICK_CPU_BUDGET_MS,
  type BrokerDeps,
  type Tracked,
} from './tracked.js';

export type { BrokerDeps, BrokerSettings } from './tracked.js';

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
  /** State changes the last tick left for the next one (its CPU budget was spent). */
  private carriedOver = 0;
  private readonly tickBudget: TickBudget;
  /** When the current streak of failed polls began (ms). */
  private pollFailingSince?: number;
  private readonly neverStart: NeverStartWatch;
  private readonly scans: LogScans;
  private readonly submitter: Submitter;
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
  /** State changes a tick left to the next poll (its CPU budget was spent), summed over the run. */
  changesCarriedOver = 0;

  constructor(private readonly deps: BrokerDeps) {
    this.runId = deps.runId ?? newRunId();
    this.submitter = new Submitter(
      deps,
      this.runId,
      (m) => this.log(m),
      () => this.closed || !!this.interrupted,
    );
    this.tickBudget = new TickBudget(deps.settings.tickCpuBudgetMs ?? TICK_CPU_BUDGET_MS);
    this.neverStart = new NeverStartWatch(deps.settings.neverStartGraceMs ?? NEVER_START_GRACE_MS);
    this.scans = new LogScans(
      deps.executor,
      this.events,
      deps.settings,
      () => this.pollWithin(deps.settings.pollMinMs),
      (m) => this.log(m),
    );
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
    this.leaveFlight(t);
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
    const adopted = await reconcileAtStart(ledger, executor, (message) =>
      this.events.emit('notice', { message }),
    );
    this.resumable = await startRun(ledger, {
      runId: this.runId,
      executorKind: executor.kind,
      resume: settings.resume,
      adopted,
    });
    if (this.resumable.size)
      await this.events.emit('notice', {
        message: `${this.resumable.size} job(s) of a crashed run can be re-attached`,
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
        // The run's last write folds the journal into jobs.json.
        await this.deps.ledger.update(
          (data) => {
            const run = data.runs.find((r) => r.id === this.runId);
            if (run) run.endedAt = new Date().toISOString();
          },
          { compact: true },
        );
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

  /** Tests submitting or live (counted as they change phase: a pump per finished job must not scan all). */
  private inFlightCount = 0;
  /** `order` before this index holds no queued test (a test never becomes queued again). */
  private queuedFrom = 0;
  /** Tracked by job id: a done marker finds its test without a scan. */
  private readonly byJobId = new Map<string, Tracked>();

  private inFlight(): number {
    return this.inFlightCount;
  }

  /** A test leaves submitting/live (done, or collecting its logs). */
  private leaveFlight(t: Tracked): void {
    if (t.phase === 'submitting' || t.phase === 'live') this.inFlightCount--;
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
    if (max > 0 && this.inFlight() >= max) return;
    while (
      this.queuedFrom < this.order.length &&
      this.tracked.get(this.order[this.queuedFrom])?.phase !== 'queued'
    )
      this.queuedFrom++;
    // Tests that are waiting go first; the rest keep the order they were scheduled in.
    const requested: Tracked[] = [];
    const rest: Tracked[] = [];
    for (let i = this.queuedFrom; i < this.order.length; i++) {
      const t = this.tracked.get(this.order[i]) as Tracked;
      if (t.phase === 'queued') (t.requested ? requested : rest).push(t);
    }
    for (const t of [...requested, ...rest]) {
      if (max > 0 && this.inFlight() >= max) break;
      t.phase = 'submitting';
      this.inFlightCount++;
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
        t.job = await this.submitter.submitWriteAhead(t, spec);
      }
      const job = t.job;
      this.byJobId.set(job.jobId, t);
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

  private slowed(): boolean {
    return slowedOver(this.tracked.values(), this.markerSeen, this.watcher);
  }

  private markerInterval(): number {
    return markerIntervalOf(this.tracked.values(), this.deps.settings);
  }

  private backOffInterval(): number {
    return backOffIntervalOf(this.tracked.values(), this.deps.settings);
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
    const t = this.byJobId.get(jobId);
    if (!t || t.job?.jobId !== jobId || t.phase !== 'live' || t.markerSeenAt !== undefined) return;
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
    this.tickBudget.start();
    try {
      this.pollCalls++;
      if (byMarker) this.markerPolls++;
      const statuses = await this.deps.executor.poll(live.map((t) => t.job as SubmittedJob));
      this.pollFailures = 0;
      this.pollFailingSince = undefined;
      await this.applyStatuses(live, statuses);
      await this.watchNeverStart(live);
      const running: Tracked[] = [];
      for (const t of live) {
        if (t.phase !== 'live') continue;
        if (t.status && TERMINAL_STATES.has(t.status.state)) void this.collect(t);
        else if (t.status?.state === 'RUNNING') running.push(t);
      }
      await this.scans.within(running, this.tickBudget.left());
    } catch (err) {
      await this.pollFailed(live, err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.ticking = false;
      this.tickBudget.end();
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
    // Changes left over by the budget are taken from the next poll, soon.
    const tick = this.carriedOver ? this.deps.settings.pollMinMs : this.tickInterval();
    this.schedulePoll(Math.min(byMarkers, tick), byMarkers < tick);
  }

  /**
   * Take the poll's answers: a job whose state (and reason) is unchanged just keeps it; the changes are
   * told and written in slices, job ends first (they free slots and unblock their tests), while the
   * tick's CPU budget lasts (`TickBudget`: its own work, and what its ended jobs will cost). A change left
   * over keeps its job's old status, so the next poll, which comes after `pollMinMs`, finds it again: a
   * tick where 10,000 jobs start or 2,500 end never stalls the process.
   */
  private async applyStatuses(
    live: readonly Tracked[],
    statuses: ReadonlyMap<string, JobStatus>,
  ): Promise<void> {
    const ends: Array<{ t: Tracked; status: JobStatus }> = [];
    const others: Array<{ t: Tracked; status: JobStatus }> = [];
    for (const t of live) {
      let status = statuses.get((t.job as SubmittedJob).jobId);
      // A job this run cancelled stays CANCELLED until the scheduler reports its end (squeue may
      // still say RUNNING for a moment after scancel), and keeps saying who cancelled it.
      if (!status || (t.cancelledBy && !TERMINAL_STATES.has(status.state))) continue;
      if (t.cancelledBy && status.state === 'CANCELLED') status = { ...status, reason: t.cancelledBy };
      const previous = t.status;
      if (status.state === previous?.state && status.reason === previous?.reason) t.status = status;
      else (TERMINAL_STATES.has(status.state) ? ends : others).push({ t, status });
    }
    const changes = ends.length ? ends.concat(others) : others;
    // One timestamp for the tick (not one Date per job of 10,000).
    const seenAt = new Date().toISOString();
    const now = Date.now();
    let done = 0;
    while (done < changes.length) {
      const slice = changes.slice(done, done + STATE_SLICE);
      const sliceEnds = Math.max(0, Math.min(ends.length - done, slice.length));
      // The first slice always goes: every tick moves on.
      if (done > 0 && !this.tickBudget.fits(sliceEnds)) break;
      this.tickBudget.took(sliceEnds);
      done += slice.length;
      await this.emitStates(
        slice.map(({ t, status }) => {
          const previous = t.status;
          if (status.state !== previous?.state) t.stateSince = seenAt;
          if (status.state === 'RUNNING' && t.runningSince === undefined) t.runningSince = now;
          t.status = status;
          return { t, previous };
        }),
      );
    }
    this.carriedOver = changes.length - done;
    this.changesCarriedOver += this.carriedOver;
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
      void this.scans.within(running).finally(() => (this.scanning = false));
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

  /** One `states` event for all these changes: the ledger writes them in one go. */
  private async emitStates(changed: Array<{ t: Tracked; previous?: JobStatus }>): Promise<void> {
    await this.events.emit(
      'states',
      changed.map(({ t, previous }) => {
        const status = t.status as JobStatus;
        const terminal = TERMINAL_STATES.has(status.state);
        const e: StateEvent = {
          testId: t.testId,
          jobId: (t.job as SubmittedJob).jobId,
          state: status.state,
          previous: previous?.state,
          reason: status.reason,
          nodes: status.nodes,
          exitCode: status.exitCode,
          since: t.stateSince ?? new Date().toISOString(),
          terminal,
        };
        if (status.startedAt) e.startedAt = status.startedAt;
        if (status.endedAt && terminal) e.endedAt = status.endedAt;
        return e;
      }),
    );
  }

  private async collect(t: Tracked): Promise<void> {
    if (t.phase !== 'live' || !t.job || !t.spec || !t.status) return;
    this.unwatch(t);
    this.leaveFlight(t);
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
