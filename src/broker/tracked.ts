// What the broker's parts share: its settings and dependencies, and the state it keeps per test.

import type { Executor } from '../executors/types.js';
import type { JobOutcome, JobSpec, JobStatus, SubmittedJob } from '../types.js';
import type { Ledger } from './ledger.js';

export interface BrokerSettings {
  /** 0 = unlimited. */
  maxJobsInFlight: number;
  pollMinMs: number;
  pollMaxMs: number;
  resume: boolean;
  /** How often a running job's worker logs are scanned for fatal errors (default 10 s). */
  scanEveryMs?: number;
  /** CPU one tick may spend scanning running jobs' logs; the rest wait for the next ticks (default 10 ms). */
  scanCpuBudgetMs?: number;
  /**
   * CPU one tick may spend on the state changes its poll found (ledger write and collection included),
   * counted from the poll; the changes left over are taken from the next poll, which then comes after
   * `pollMinMs` (default 25 ms: 10,000 jobs starting at once take a few ticks, none stalls the run).
   */
  tickCpuBudgetMs?: number;
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

export type Phase = 'queued' | 'submitting' | 'live' | 'collecting' | 'done';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export function deferred<T>(): Deferred<T> {
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

export interface Tracked {
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
  /** `job.submittedAt` parsed (ms), once: the poll cadence looks at every live job each tick. */
  submittedMs?: number;
  submittedFor?: SubmittedJob;
  result: Deferred<JobOutcome>;
}

/** Non-terminal states a re-attached job may be in; a cancelled or failed one is submitted afresh. */
export const REATTACHABLE = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'COMPLETED',
]);
export const SCAN_EVERY_MS = 10_000;
export const SCAN_CPU_BUDGET_MS = 10;
export const TICK_CPU_BUDGET_MS = 25;
/** State changes handled between two looks at the tick's CPU (a ledger write each). */
export const STATE_SLICE = 250;
export const SUBMIT_ATTEMPTS = 3;
export const SUBMIT_RETRY_DELAY_MS = 5_000;
export const SAFETY_POLL_MS = 60_000;
export const MARKER_SETTLE_MS = 1_000;
export const LEDGER_ATTEMPTS = 3;
export const LEDGER_RETRY_DELAY_MS = 2_000;
