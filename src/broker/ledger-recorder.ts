import type { BrokerEvents } from './events.js';
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
      await ledger.patch((view) => view.setJob(e.jobId, e.testId, { runId }));
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

  // A tick's state changes arrive as one event: one ledger write for all of them, naming the fields it
  // sets (the journal then compares nothing else).
  events.on('states', async (changes) => {
    const now = new Date().toISOString();
    await ledger.patch((view) => {
      for (const c of changes)
        view.setJob(c.jobId, c.testId, {
          state: c.state,
          exitCode: c.exitCode,
          reason: earlyFailures.get(c.jobId) ?? c.reason,
          updatedAt: now,
          ...(c.terminal ? { endedAt: now } : {}),
        });
    });
  });

  // Not on 'final': a job handed to its test is consumed only once the test wrote its results.
  events.on('consumed', async (e) => {
    await ledger.patch((view) => view.setJob(e.jobId, e.testId, { consumed: true }));
  });

  events.on('cancel', async (e) => {
    const ids = new Set(e.jobIds);
    await ledger.update((data) => {
      for (const j of data.jobs)
        if (ids.has(j.jobId) && j.runId === runId) j.reason = `cancel requested: ${e.reason}`;
    });
  });
}
