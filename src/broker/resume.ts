// Resume at the start of a run: intents left by dead runs are reconciled with the scheduler, and the
// jobs of crashed runs that can be re-attached are taken over by this run, in the write that ends them.

import type { Executor } from '../executors/types.js';
import { Ledger, type LedgerJob } from './ledger.js';
import { REATTACHABLE } from './tracked.js';
import { reconcileIntents } from './write-ahead.js';

/**
 * Intents left by dead runs (killed between recording an intent and recording its job): the scheduler
 * says, in one query, which have a job; those are recorded and then re-attached like any crashed
 * run's job, the others are submitted afresh. Returns the ids of the jobs adopted.
 */
export async function reconcileAtStart(
  ledger: Ledger,
  executor: Executor,
  notice: (message: string) => Promise<void>,
): Promise<Set<string>> {
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
  const adopted = new Set(r.adopted.map((job) => job.jobId));
  for (const job of r.adopted)
    await notice(
      `${job.testId}: found job ${job.jobId} (${job.state}) submitted by crashed run ${job.runId} but missing from the ledger; adopted it`,
    );
  if (r.dropped.length)
    await notice(`${r.dropped.length} submission(s) of a crashed run made no job; they are submitted afresh`);
  if (r.unchecked.length)
    await notice(
      `executor ${executor.kind} cannot look jobs up by token: ${r.unchecked.map((i) => i.testId).join(', ')} ` +
        `may have a job from a crashed run that the ledger does not list`,
    );
  return adopted;
}

export interface TakeOver {
  runId: string;
  executorKind: Executor['kind'];
  resume: boolean;
  /** Jobs found by their write-ahead token at start: re-attachable whatever became of their run. */
  adopted: ReadonlySet<string>;
}

/**
 * Records this run in the ledger, ends the crashed runs and takes their re-attachable jobs over, in one
 * write. Returns those jobs by test (as they were before the take-over).
 */
export async function startRun(ledger: Ledger, o: TakeOver): Promise<Map<string, LedgerJob>> {
  const resumable = new Map<string, LedgerJob>();
  await ledger.update((data) => {
    const crashed = new Set(Ledger.crashedRuns(data).map((r) => r.id));
    for (const job of data.jobs) {
      if (
        o.resume &&
        (crashed.has(job.runId) || o.adopted.has(job.jobId)) &&
        job.executor === o.executorKind &&
        REATTACHABLE.has(job.state) &&
        // A job a test already judged is never judged again (its CSV rows exist).
        !job.consumed
      ) {
        resumable.set(job.testId, { ...job });
        // This run takes the job over in the write that ends the crashed run: if this run dies too
        // before re-attaching it, the next run still finds it (a job of an ended run is never resumed).
        job.runId = o.runId;
      }
    }
    for (const run of data.runs) if (crashed.has(run.id)) run.endedAt = new Date().toISOString();
    data.runs.push({ id: o.runId, pid: process.pid, startedAt: new Date().toISOString() });
  });
  return resumable;
}
