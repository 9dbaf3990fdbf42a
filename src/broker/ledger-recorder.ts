import type { BrokerEvents, StateEvent } from './events.js';
import type { Ledger } from './ledger.js';

/**
 * Keeps `jobs.json` in step with the broker, as a subscriber: a job is recorded when submitted (or
 * re-attached), its state on every change, `consumed` once its test wrote its results, and the
 * reason of a cancel. Every write is awaited by the broker, so a crash after a submit finds the job.
 */
export function recordInLedger(events: BrokerEvents, ledger: Ledger, runId: string): void {
  const earlyFailures = new Map<string, string>();

  events.on('submitted', async (e) => {
    if (e.resumed) {
      await ledger.patch((view) => {
        const j = view.findJob(e.jobId, e.testId);
        if (j) j.runId = runId;
      });
      return;
    }
    const now = new Date().toISOString();
    await ledger.patch((view) => {
      // The broker's write-ahead path has recorded it already (in the write that dropped its intent).
      view.addJob({
        testId: e.testId,
        configHash: e.configHash,
        executor: e.executor,
        jobId: e.jobId,
        jobDir: e.jobDir,
        localLogDir: e.logDir,
        pid: e.pid,
        procId: e.procId,
        state: 'PENDING',
        runId,
        submittedAt: e.submittedAt,
        updatedAt: now,
        consumed: false,
      });
    });
  });

  events.on('earlyFailure', (e) => {
    earlyFailures.set(e.jobId, e.line);
  });

  // A tick's state changes arrive together (the broker emits them without waiting in between): one
  // ledger write for all of them, not one locked write per job.
  let batch: StateEvent[] = [];
  let flushing: Promise<void> | undefined;
  events.on('state', (e) => {
    batch.push(e);
    return (flushing ??= Promise.resolve().then(async () => {
      const changes = batch;
      batch = [];
      flushing = undefined;
      const byId = new Map(changes.map((c) => [c.jobId, c]));
      const now = new Date().toISOString();
      await ledger.patch((view) => {
        for (const c of byId.values()) {
          const j = view.findJob(c.jobId, c.testId);
          if (!j) continue;
          j.state = c.state;
          j.exitCode = c.exitCode;
          j.reason = earlyFailures.get(c.jobId) ?? c.reason;
          j.updatedAt = now;
          if (c.terminal) j.endedAt = now;
        }
      });
    }));
  });

  // Not on 'final': a job handed to its test is consumed only once the test wrote its results.
  events.on('consumed', async (e) => {
    await ledger.patch((view) => {
      const j = view.findJob(e.jobId, e.testId);
      if (j) j.consumed = true;
    });
  });

  events.on('cancel', async (e) => {
    const ids = new Set(e.jobIds);
    await ledger.update((data) => {
      for (const j of data.jobs)
        if (ids.has(j.jobId) && j.runId === runId) j.reason = `cancel requested: ${e.reason}`;
    });
  });
}
