// An executor is a Scheduler × Host × JobDir: the scheduler decides how a job is started and followed,
// the host where its commands run and its job dir lives, JobDir (written once) prepares and reads the dir.

import path from 'node:path';
import type { JobSpec, JobStatus, SubmittedJob } from '../types.js';
import { LocalDoneWatcher } from './done-watch.js';
import { JobDir, remoteJobDir } from './job-dir.js';
import { RemoteDoneWatcher } from './remote-done-watch.js';
import { remoteWorkDir } from './remote-dir.js';
import type {
  CancelResult,
  DoneWatcher,
  Executor,
  ExecutorExtras,
  ExecutorKind,
  Host,
  PendingExplanation,
  ReconciledJob,
  Scheduler,
  SubmissionPlan,
  Upload,
} from './types.js';

export interface JobExecutorOptions {
  kind: ExecutorKind;
  scheduler: Scheduler;
  host: Host;
  /**
   * Job dirs live on the host under a base dir (`<base>/<machine>-<hash>/<test>`) and logs are fetched
   * back; otherwise each job runs in its local log dir and there is nothing to fetch.
   */
  remoteJobDirs: boolean;
  extras?: ExecutorExtras;
}

export class JobExecutor implements Executor {
  readonly kind: ExecutorKind;
  readonly host: Host;
  readonly scheduler: Scheduler;
  readonly jobDirs: JobDir;
  private readonly remoteJobDirs: boolean;
  private readonly extras: ExecutorExtras;
  private baseDirResolved: string | undefined;

  constructor(options: JobExecutorOptions) {
    this.kind = options.kind;
    this.host = options.host;
    this.scheduler = options.scheduler;
    this.extras = options.extras ?? {};
    this.remoteJobDirs = options.remoteJobDirs || this.extras.remoteDir !== undefined;
    this.jobDirs = new JobDir(this.host, this.extras);
  }

  /** The job dir `submit` uses for this spec on the host. */
  async jobDirFor(spec: JobSpec): Promise<string> {
    if (!this.remoteJobDirs) return path.resolve(spec.localLogDir);
    return remoteJobDir(await this.baseDir(), spec);
  }

  private async baseDir(): Promise<string> {
    if (this.baseDirResolved !== undefined) return this.baseDirResolved;
    const b = this.extras.remoteDir;
    this.baseDirResolved =
      b !== undefined && b.startsWith('/')
        ? b
        : remoteWorkDir(b, this.extras.remoteHome ?? (await this.host.homeDir()));
    return this.baseDirResolved;
  }

  private uploadsFor(spec: JobSpec): Upload[] {
    const u = this.extras.uploads;
    return typeof u === 'function' ? u(spec) : (u ?? []);
  }

  /** What `submit` would upload and run for `spec`, without doing it (`disagg dry-run`). */
  async plan(spec: JobSpec): Promise<SubmissionPlan> {
    return this.scheduler.render(spec, await this.jobDirFor(spec), this.uploadsFor(spec));
  }

  async submit(spec: JobSpec): Promise<SubmittedJob> {
    const plan = await this.plan(spec);
    await this.jobDirs.prepare(plan);
    const started = await this.scheduler.submit(plan, spec);
    return {
      jobId: started.jobId,
      testId: spec.testId,
      jobDir: plan.jobDir,
      ...(started.pid !== undefined ? { pid: started.pid } : {}),
      ...(started.procId !== undefined ? { procId: started.procId } : {}),
      submittedAt: new Date().toISOString(),
    };
  }

  poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    return this.scheduler.poll(jobs);
  }

  cancel(jobs: readonly SubmittedJob[]): Promise<CancelResult | void> {
    return this.scheduler.cancel(jobs);
  }

  async explainPending(job: SubmittedJob, reason: string): Promise<PendingExplanation> {
    return this.scheduler.explainPending ? this.scheduler.explainPending(job, reason) : { never: true };
  }

  scanEarlyFailure(job: SubmittedJob): Promise<string | undefined> {
    return this.jobDirs.scanEarlyFailure(job.jobDir);
  }

  async fetchLogs(job: SubmittedJob, localDir: string): Promise<void> {
    // A job that ran in its local log dir has its logs in place already.
    if (!this.remoteJobDirs && path.resolve(job.jobDir) === path.resolve(localDir)) return;
    await this.jobDirs.fetchLogs(job, localDir);
  }

  /**
   * Job dirs on this machine: `fs.watch` + a stat sweep. Remote job dirs: one loop over the host's
   * connection for every job (when the host can stream a command; otherwise the tick alone).
   */
  async watchDone(onSeen: (jobId: string) => void, onLapse?: () => void): Promise<DoneWatcher | undefined> {
    if (!this.remoteJobDirs) return new LocalDoneWatcher(onSeen);
    const stream = this.host.stream?.bind(this.host);
    return stream ? new RemoteDoneWatcher(stream, onSeen, { log: this.extras.log, onLapse }) : undefined;
  }

  /** See `Executor.reconcile`. */
  async reconcile(
    tokens: readonly string[],
    localLogDirs?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ReconciledJob> | undefined> {
    if (!this.scheduler.reconcile) return undefined;
    if (tokens.length === 0) return new Map();
    // Job dirs on this machine are the local log dirs (see jobDirFor); remote ones are not known here.
    const dirs =
      !this.remoteJobDirs && localLogDirs
        ? new Map([...localLogDirs].map(([token, dir]) => [token, path.resolve(dir)]))
        : undefined;
    return this.scheduler.reconcile(tokens, dirs);
  }

  async close(): Promise<void> {
    await this.scheduler.close?.();
    await this.host.close();
  }
}
