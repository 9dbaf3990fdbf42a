// What the broker tests' fake executors share: numbered job ids, no early failure, nothing to fetch or
// close. Each test's subclass says how its jobs poll (and cancel).
import type { Executor } from '../../../src/executors/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../../../src/types.js';

export abstract class FakeExecutor implements Executor {
  readonly kind = 'slurm' as const;
  private n = 100;

  async submit(spec: JobSpec): Promise<SubmittedJob> {
    return {
      jobId: String(this.n++),
      testId: spec.testId,
      jobDir: spec.localLogDir,
      submittedAt: new Date().toISOString(),
    };
  }
  abstract poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>>;
  async cancel(_jobs: readonly SubmittedJob[]): Promise<void> {}
  async scanEarlyFailure(): Promise<string | undefined> {
    return undefined;
  }
  async fetchLogs(): Promise<void> {}
  async close(): Promise<void> {}
}
