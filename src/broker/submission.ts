// Submitting one job: the write-ahead intent, the submit with retries of retryable errors only, the
// scheduler asked by token when a failed submit may still have made a job, the job's ledger entry.

import { ConfigError, isRetryable, SettingsError } from '../errors.js';
import type { JobSpec, SubmittedJob } from '../types.js';
import type { LedgerIntent } from './ledger.js';
import {
  LEDGER_ATTEMPTS,
  LEDGER_RETRY_DELAY_MS,
  SUBMIT_ATTEMPTS,
  SUBMIT_RETRY_DELAY_MS,
  type BrokerDeps,
  type Tracked,
} from './tracked.js';
import {
  adoptedJob,
  dropIntent,
  newSubmitToken,
  recordIntent,
  recordJob,
  withRetries,
} from './write-ahead.js';

/** The error of a submit that surely made no job: its write-ahead intent can be dropped. */
function markNoJob(err: unknown): void {
  if (typeof err === 'object' && err !== null) (err as { noJob?: boolean }).noJob = true;
}

export class Submitter {
  /** Submissions of this run so far (numbers the write-ahead tokens). */
  private submissions = 0;

  constructor(
    private readonly deps: BrokerDeps,
    private readonly runId: string,
    private readonly log: (message: string) => void,
    /** The run ended or was interrupted: no retry. */
    private readonly stopped: () => boolean,
  ) {}

  /**
   * The write-ahead submission: intent (with a fresh token) in the ledger, then the submit, then the job's
   * entry replacing the intent. A job whose entry cannot be written (lock held, EACCES, ENOSPC) after a
   * few tries is cancelled: never a live job nobody tracks.
   */
  async submitWriteAhead(t: Tracked, spec: JobSpec): Promise<SubmittedJob> {
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
        if (attempt >= attempts || !isRetryable(err) || this.stopped()) throw err;
        this.log(
          `${t.testId}: submit failed (attempt ${attempt}/${attempts}), retrying in ${Math.round(delay / 1000)} s: ` +
            (err as Error).message,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay *= 2;
        if (this.stopped()) throw err;
      }
    }
  }
}
