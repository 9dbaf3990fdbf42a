// The shapes of `jobs.json` (and of the per-run archive's lines).
import type { ExecutorKind } from '../executors/types.js';
import type { JobState, ProcessIdentity } from '../types.js';

/** One job as recorded in `$OUTPUT_PATH/jobs.json`. */
export interface LedgerJob {
  testId: string;
  configHash: string;
  executor: ExecutorKind;
  jobId: string;
  jobDir: string;
  /** The local log dir this run chose for the job (absent in ledgers of older versions). */
  localLogDir?: string;
  pid?: number;
  /** What proves `pid` is still this job before it is signalled (absent in older ledgers: never signalled). */
  procId?: ProcessIdentity;
  state: JobState;
  exitCode?: string;
  reason?: string;
  runId: string;
  submittedAt: string;
  updatedAt: string;
  endedAt?: string;
  /** True once a test has judged this job's logs: a consumed job is never re-attached. */
  consumed: boolean;
  /** Why the last `disagg cancel` did not signal this job (it stays tracked as live). */
  cancelRefused?: string;
}

/**
 * A submission about to happen (write-ahead): recorded before the executor submits, removed in the same
 * write that records the job (or when the submit surely made no job). One left behind by a dead run is
 * reconciled with the scheduler by its token at the next start.
 */
export interface LedgerIntent {
  token: string;
  testId: string;
  runId: string;
  executor: ExecutorKind;
  configHash: string;
  /** The local log dir the submitting run chose for the job. */
  localLogDir: string;
  createdAt: string;
}

export interface LedgerRun {
  id: string;
  pid: number;
  startedAt: string;
  endedAt?: string;
}

export interface LedgerData {
  version: 1;
  runs: LedgerRun[];
  jobs: LedgerJob[];
  /** Open write-ahead intents (absent in ledgers of older versions). */
  intents?: LedgerIntent[];
  /** Set once final jobs move to the per-run archives (`ledger-archive.ts`); absent in older ledgers. */
  archive?: 'per-run';
  /**
   * Which snapshot this is (counted up at each compaction; absent = 0): the journal's lines name the
   * generation they follow, so lines already folded into this file are skipped.
   */
  generation?: number;
}
