import type { BrokerEvents } from '../broker/events.js';
import { describeHeartbeat, describeProgress, describeState, jobLabel, type JobSnapshot } from './format.js';

// The live progress of a run's jobs, in the main process, from the broker's events: one line per state
// change and per new concurrency, and a heartbeat for every live job. Lines only, written through
// `write` (console.error): Vitest's TTY renderer intercepts those writes and prints them above its own
// status block, so nothing here moves the cursor or fights it.

export interface ProgressViewOptions {
  /** Prints one message (the caller adds the `[vitest-disagg]` prefix). */
  write: (message: string) => void;
  /** Heartbeat period; 0 = no heartbeat. */
  heartbeatMs: number;
  /** In a terminal, one compact block for all live jobs per heartbeat instead of a line per job. */
  tty: boolean;
  now?: () => number;
}

interface Tracked extends JobSnapshot {
  timer?: NodeJS.Timeout;
}

export class ProgressView {
  private readonly jobs = new Map<string, Tracked>();
  private blockTimer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: ProgressViewOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Follow one broker's events; returns the function that stops following them. */
  subscribe(events: BrokerEvents): () => void {
    const offs = [
      events.on('submitted', (e) => {
        this.track(e.testId, e.jobId, Date.parse(e.submittedAt), e.timeLimitMs);
      }),
      events.on('states', (changes) => {
        for (const e of changes) {
          const job = this.jobs.get(e.testId) ?? this.track(e.testId, e.jobId, Date.parse(e.since));
          job.state = e.state;
          job.reason = e.reason;
          if (e.nodes) job.nodes = e.nodes;
          if (e.state === 'RUNNING' && job.runningSince === undefined)
            job.runningSince = Date.parse(e.startedAt ?? e.since);
          this.options.write(`${jobLabel(e.jobId, e.testId)} ${describeState(e)}`);
          if (e.terminal) this.forget(e.testId);
        }
      }),
      events.on('progress', (e) => {
        const job = this.jobs.get(e.testId);
        if (!job || e.concurrency === undefined || e.concurrency === job.concurrency) return;
        job.concurrency = e.concurrency;
        this.options.write(`${jobLabel(e.jobId, e.testId)} ${describeProgress(e)}`);
      }),
      events.on('final', (e) => this.forget(e.testId)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Stop every heartbeat (end of run). */
  close(): void {
    for (const testId of [...this.jobs.keys()]) this.forget(testId);
    if (this.blockTimer) clearInterval(this.blockTimer);
    this.blockTimer = undefined;
  }

  /** The jobs the view follows now, as a heartbeat would show them. */
  snapshot(): string[] {
    const now = this.now();
    return [...this.jobs.values()].map((j) => `${jobLabel(j.jobId, j.testId)} ${describeHeartbeat(j, now)}`);
  }

  private track(testId: string, jobId: string, submittedAt: number, timeLimitMs?: number): Tracked {
    this.forget(testId);
    const job: Tracked = { testId, jobId, state: 'SUBMITTED', submittedAt, timeLimitMs };
    this.jobs.set(testId, job);
    const every = this.options.heartbeatMs;
    if (every > 0 && !this.options.tty) {
      job.timer = setInterval(() => {
        this.options.write(
          `${jobLabel(job.jobId, job.testId)} heartbeat: ${describeHeartbeat(job, this.now())}`,
        );
      }, every);
      job.timer.unref();
    } else if (every > 0 && !this.blockTimer) {
      this.blockTimer = setInterval(() => this.writeBlock(), every);
      this.blockTimer.unref();
    }
    return job;
  }

  private writeBlock(): void {
    const lines = this.snapshot();
    if (!lines.length) return;
    this.options.write(`heartbeat: ${lines.length} live job(s)\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }

  private forget(testId: string): void {
    const job = this.jobs.get(testId);
    if (!job) return;
    if (job.timer) clearInterval(job.timer);
    this.jobs.delete(testId);
    if (!this.jobs.size && this.blockTimer) {
      clearInterval(this.blockTimer);
      this.blockTimer = undefined;
    }
  }
}
