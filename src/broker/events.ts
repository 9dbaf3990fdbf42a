import type { ExecutorKind } from '../executors/types.js';
import type { JobOutcome, JobState, ProcessIdentity } from '../types.js';

// What the broker tells its subscribers (the ledger, the log lines, reporters, a progress view), so none
// of them reaches into the broker. Payloads are plain data: they may be serialised as they are.

/** A job was submitted for a test, or re-attached from a crashed run (`resumed`). */
export interface SubmittedEvent {
  testId: string;
  jobId: string;
  executor: ExecutorKind;
  configHash: string;
  /** Where the job runs (remote path for ssh). */
  jobDir: string;
  /** This run's local log dir of the test. */
  logDir: string;
  /** The job's hard time limit (SLURM --time, local kill), for heartbeats. */
  timeLimitMs?: number;
  pid?: number;
  procId?: ProcessIdentity;
  resumed: boolean;
  /** The run that submitted the job (for a re-attached job: the crashed run). */
  submittedByRun: string;
  submittedAt: string;
}

/** A job's scheduler state changed (first poll included); a tick's changes come as one `states` event. */
export interface StateEvent {
  testId: string;
  jobId: string;
  state: JobState;
  previous?: JobState;
  /** SLURM's reason (`Priority`, `Resources`, `NonZeroExitCode`…), when it gave one. */
  reason?: string;
  /** Nodes the job runs on, when the executor reports them. */
  nodes?: string;
  exitCode?: string;
  /** When the broker saw this state first (ISO 8601). */
  since: string;
  /** When the job itself started (ISO 8601), as its scheduler recorded it, when known. */
  startedAt?: string;
  /** When the job itself ended (ISO 8601), as its scheduler recorded it; only on a terminal state. */
  endedAt?: string;
  terminal: boolean;
}

/** What the logs of a running job show so far. */
export interface ProgressEvent {
  testId: string;
  jobId: string;
  /** Highest concurrency the benchmark has reached, when known (the job dir is readable here). */
  concurrency?: number;
  /** Concurrencies whose block finished. */
  concurrenciesDone: number[];
  at: string;
}

/** The early-failure scan found a fatal line; the job is being cancelled. */
export interface EarlyFailureEvent {
  testId: string;
  jobId: string;
  line: string;
}

/** The broker asked the executor to cancel these jobs. */
export interface CancelEvent {
  jobIds: string[];
  reason: string;
}

/** A test's job is settled: an outcome (logs collected), or an error (never submitted, not collected). */
export type FinalEvent =
  | { testId: string; ok: true; jobId: string; state: JobState; exitCode?: string; outcome: JobOutcome }
  | { testId: string; ok: false; jobId?: string; error: string };

/**
 * A test has judged its job and written its results (CSV rows, history line, results file): only now is
 * the job consumed, so a run killed before this re-judges the job on rerun instead of running it again.
 */
export interface ConsumedEvent {
  testId: string;
  jobId: string;
}

/** A broker-level message for people (re-attachable jobs found, poll failed, submit retried…). */
export interface NoticeEvent {
  message: string;
}

export interface BrokerEventMap {
  submitted: SubmittedEvent;
  /** Every state change one poll (or one cancel) saw, together: one event per tick, not one per job. */
  states: StateEvent[];
  progress: ProgressEvent;
  earlyFailure: EarlyFailureEvent;
  cancel: CancelEvent;
  final: FinalEvent;
  consumed: ConsumedEvent;
  notice: NoticeEvent;
}

export type BrokerEventName = keyof BrokerEventMap;

/** A listener may return a promise: `emit` waits for it (the ledger must be written before the broker goes on). */
export type BrokerListener<K extends BrokerEventName> = (event: BrokerEventMap[K]) => void | Promise<void>;

/**
 * A small typed event emitter. Listeners run in the order they subscribed, synchronously up to their
 * first await; `emit` resolves when all of them have, and rejects with the first listener error, which
 * then fails the broker step that emitted it. Listeners that must never disturb the broker (reporters)
 * catch their own errors.
 */
export class BrokerEvents {
  private readonly listeners: { [K in BrokerEventName]?: Array<BrokerListener<K>> } = {};

  /** Subscribe; returns the unsubscribe function. */
  on<K extends BrokerEventName>(name: K, listener: BrokerListener<K>): () => void {
    const list = (this.listeners[name] ??= []) as Array<BrokerListener<K>>;
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  async emit<K extends BrokerEventName>(name: K, event: BrokerEventMap[K]): Promise<void> {
    const list = [...((this.listeners[name] ?? []) as Array<BrokerListener<K>>)];
    const pending: Array<Promise<void>> = [];
    let thrown: unknown;
    for (const listener of list) {
      try {
        const r = listener(event);
        if (r) pending.push(r);
      } catch (err) {
        thrown ??= err;
      }
    }
    // Most events have one waiting listener (the ledger): no Promise.all per event of a 10,000-job tick.
    if (pending.length === 1) await pending[0];
    else if (pending.length) await Promise.all(pending);
    if (thrown !== undefined) throw thrown;
  }
}

/** The broker's log lines, as a subscriber: one line per event a person wants to see while waiting. */
export function logEvents(events: BrokerEvents, log: (message: string) => void): void {
  events.on('notice', (e) => log(e.message));
  events.on('submitted', (e) =>
    log(
      e.resumed
        ? `${e.testId}: re-attached to job ${e.jobId} of a crashed run`
        : `${e.testId}: submitted job ${e.jobId}`,
    ),
  );
  events.on('earlyFailure', (e) => log(`${e.testId}: early failure, cancelling job ${e.jobId}: ${e.line}`));
  events.on('cancel', (e) => log(`cancelling ${e.jobIds.length} job(s): ${e.reason}`));
}
