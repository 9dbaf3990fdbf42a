// Write-ahead submission: a submission is recorded in the ledger (as an intent with a unique token)
// BEFORE the executor submits, and the job carries the token. The job's own ledger entry replaces the
// intent in one locked write. A run killed anywhere in between leaves an intent; the next start asks the
// scheduler, in one query, which of those tokens have a job, and adopts them: nothing is submitted twice.

import { randomBytes } from 'node:crypto';
import type { Executor, ReconciledJob } from '../executors/types.js';
import { TERMINAL_STATES } from '../types.js';
import { Ledger, type LedgerIntent, type LedgerJob } from './ledger.js';
import { isRetryableFileError } from '../util/file-lock.js';

/** `dsg-<runId>-<n>-<hex>`: unique per submission, readable in `squeue -o %k`. */
export function newSubmitToken(runId: string, n: number): string {
  return `dsg-${runId}-${n}-${randomBytes(4).toString('hex')}`;
}

export async function recordIntent(ledger: Ledger, intent: LedgerIntent): Promise<void> {
  await ledger.patch((view) => view.addIntent(intent));
}

/** The job replaces its intent in one write: a crash leaves one or the other, never neither. */
export async function recordJob(ledger: Ledger, job: LedgerJob, token: string): Promise<void> {
  await ledger.patch((view) => {
    view.removeIntent(token);
    view.addJob(job);
  });
}

/** The submission surely made no job (refused, or the scheduler says no job has the token). */
export async function dropIntent(ledger: Ledger, token: string): Promise<void> {
  await ledger.patch((view) => view.removeIntent(token));
}

/** Try `write` up to `attempts` times, waiting `delayMs` between tries; the last error is thrown. */
export async function withRetries<T>(write: () => Promise<T>, attempts: number, delayMs: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      // A full disk or a read-only dir does not heal in a second: fail at once, saying why.
      if (attempt >= attempts || !isRetryableFileError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The ledger entry of a job found by its token. */
export function adoptedJob(intent: LedgerIntent, found: ReconciledJob, now: string): LedgerJob {
  return {
    testId: intent.testId,
    configHash: intent.configHash,
    executor: intent.executor,
    jobId: found.jobId,
    // SLURM reports the job's working dir; the local executor runs jobs in their local log dir.
    jobDir: found.jobDir ?? intent.localLogDir,
    localLogDir: intent.localLogDir,
    ...(found.pid !== undefined ? { pid: found.pid } : {}),
    ...(found.procId !== undefined ? { procId: found.procId } : {}),
    state: found.state,
    runId: intent.runId,
    submittedAt: intent.createdAt,
    updatedAt: now,
    consumed: false,
  };
}

export interface ReconcileResult {
  /** Jobs found for intents and now recorded in the ledger. */
  adopted: LedgerJob[];
  /** Intents the scheduler has no job for: dropped, their tests are submitted afresh. */
  dropped: LedgerIntent[];
  /** The executor cannot look tokens up: these intents were dropped unchecked. */
  unchecked: LedgerIntent[];
}

/**
 * Intents left by runs that are no longer alive (crashed, or ended while a submit was in doubt), for this
 * executor: ONE scheduler query for all, then one ledger write that records the jobs found and drops the
 * intents. A scheduler that cannot answer throws: guessing could submit a job twice.
 */
export async function reconcileIntents(ledger: Ledger, executor: Executor): Promise<ReconcileResult> {
  const result: ReconcileResult = { adopted: [], dropped: [], unchecked: [] };
  let open: LedgerIntent[] = [];
  await ledger.update((data, view) => {
    const live = Ledger.liveRuns(data);
    open = view.intents().filter((i) => !live.has(i.runId) && i.executor === executor.kind);
  });
  if (!open.length) return result;
  // The local log dirs too: a local job that already ended is found by the token its dir holds.
  const found = executor.reconcile
    ? await executor.reconcile(
        open.map((i) => i.token),
        new Map(open.map((i) => [i.token, i.localLogDir])),
      )
    : undefined;
  const now = new Date().toISOString();
  await ledger.update((_data, view) => {
    for (const intent of open) {
      view.removeIntent(intent.token);
      if (!found) {
        result.unchecked.push(intent);
        continue;
      }
      const job = found.get(intent.token);
      if (!job) {
        result.dropped.push(intent);
        continue;
      }
      const entry = adoptedJob(intent, job, now);
      if (TERMINAL_STATES.has(entry.state)) entry.endedAt = now;
      view.addJob(entry);
      result.adopted.push(entry);
    }
  });
  return result;
}
