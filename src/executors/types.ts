import type { JobSpec, JobStatus, SubmittedJob } from '../types.js';

export type ExecutorKind = 'local' | 'slurm' | 'ssh';

/**
 * One backend that runs jobs. Modelled on ReFrame's scheduler: `poll` takes every live job at once so a
 * backend can answer with one `squeue` call per tick, whatever the number of jobs.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  /** Upload what the job needs and start it. Rejects with a clear error when the backend refuses. */
  submit(spec: JobSpec): Promise<SubmittedJob>;
  /** Status of all given jobs, in as few backend calls as possible (one per tick for SLURM). */
  poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>>;
  cancel(jobs: readonly SubmittedJob[]): Promise<void>;
  /** Look at a running job's worker logs for fatal patterns; returns the fatal line, if any. */
  scanEarlyFailure(job: SubmittedJob): Promise<string | undefined>;
  /** Bring the job's logs into `localDir` (small logs whole, huge worker logs tail-first). */
  fetchLogs(job: SubmittedJob, localDir: string): Promise<void>;
  close(): Promise<void>;
}

/** Result of one shell command on a host. `code: null` means the connection was lost. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where SLURM commands run: this machine, or a login node over SSH. The slurm executor is written once
 * against this interface; only the host differs.
 */
export interface Host {
  readonly description: string;
  /** Run one command line (already quoted) in `cwd`. */
  exec(command: string, options?: { cwd?: string; stdin?: string }): Promise<CommandResult>;
  mkdirp(dir: string): Promise<void>;
  writeFile(path: string, content: string | Buffer, mode?: number): Promise<void>;
  /** Copy a remote file to a local path; `maxBytes` keeps only the tail of a huge file. */
  getFile(remotePath: string, localPath: string, maxBytes?: number): Promise<void>;
  /** Names and sizes of the files in a remote directory (recursive, relative paths). */
  listFiles(dir: string): Promise<Array<{ path: string; size: number }>>;
  homeDir(): Promise<string>;
  close(): Promise<void>;
}
