import type { ExecutorKind as BuiltinExecutorKind, ExecutorSettings } from '../settings/types.js';
import type { JobSpec, JobState, JobStatus, ProcessIdentity, SubmittedJob } from '../types.js';

/**
 * The name of a registered backend: the built-in 'local', 'slurm' and 'ssh', or any name a module gave
 * to `register` (see registry.ts).
 */
export type ExecutorKind = BuiltinExecutorKind | (string & {});

/** One file placed in a job dir before the job starts. */
export interface PlannedFile {
  name: string;
  /** Where it goes on the submit host. */
  remotePath: string;
  size: number;
  mode?: number;
  content?: string | Buffer;
  localPath?: string;
}

/** The exact command that starts a job. */
export interface PlannedCommand {
  /** The argument vector, unquoted (for display and tests). */
  argv: string[];
  /** Environment the command runs with (prefixed as assignments on the command line). */
  env: Record<string, string>;
  /** The exact, fully quoted line given to the shell (run with cwd = plan.cwd). */
  commandLine: string;
}

/** What submitting one job means: the files to upload and the command. `disagg dry-run` prints it. */
export interface SubmissionPlan {
  /** How the job is started (`sbatch`, `submit.py`, `local`, or a custom scheduler's name). */
  launcher: string;
  jobDir: string;
  /** Holds the uploads for a launcher that wipes the log dir (submit.py) and the submit markers. */
  controlDir: string;
  /** cwd of the submit command. */
  cwd: string;
  files: PlannedFile[];
  command: PlannedCommand;
  /** The resolved config as uploaded (submit.py's `-c`), for `disagg dry-run`. */
  uploadedConfig?: string;
  /** The worker configs and who writes them: our upload, or submit.py into the dir it recreates. */
  workerConfigs?: Array<{ name: string; path: string; writtenBy: 'upload' | 'submit.py' }>;
  /** The job script on the submit host. */
  script?: string;
  /** submit.py on the submit host (`$SCRIPT_DIR/submit.py` when the shell there expands it). */
  submitPy?: string;
}

/**
 * One backend that runs jobs, as the broker sees it (`createExecutor` returns a JobExecutor, which also
 * has `plan(spec)` for dry runs). Modelled on ReFrame's scheduler: `poll` takes every
 * live job at once so a backend can answer with one `squeue` call per tick, whatever the number of jobs.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  /** Upload what the job needs and start it. Rejects with a SubmitError when the backend refuses. */
  submit(spec: JobSpec): Promise<SubmittedJob>;
  /** Status of all given jobs, in as few backend calls as possible (one per tick for SLURM). */
  poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>>;
  /** Cancel many jobs; what it did not signal is in the result (void: every job was signalled). */
  cancel(jobs: readonly SubmittedJob[]): Promise<CancelResult | void>;
  /** Look at a running job's worker logs for fatal patterns; returns the fatal line, if any. */
  scanEarlyFailure(job: SubmittedJob): Promise<string | undefined>;
  /** Bring the job's logs into `localDir` (small logs whole, huge worker logs tail-first). */
  fetchLogs(job: SubmittedJob, localDir: string): Promise<void>;
  /**
   * A pending job's never-start reason checked against the scheduler: whether it really can never start
   * and the limit it hit (e.g. `job_time 00:05:00 exceeds partition short MaxTime 00:01:00`).
   */
  explainPending?(job: SubmittedJob, reason: string): Promise<PendingExplanation>;
  /**
   * Watch live jobs' completion markers (done marker, exit marker) and call `onSeen` once per job whose
   * marker appeared: the broker then polls at once instead of waiting for its tick. Undefined when this
   * backend cannot watch (the tick alone sees the end). `onLapse`: the watcher stopped covering its
   * jobs for a while (its remote loop ended and restarts), so the tick must not wait the safety interval.
   */
  watchDone?(onSeen: (jobId: string) => void, onLapse?: () => void): Promise<DoneWatcher | undefined>;
  /**
   * The jobs that carry these write-ahead tokens (`JobSpec.submitToken`), found in ONE scheduler query;
   * `undefined` when the backend cannot tell (a custom scheduler without `reconcile`).
   */
  reconcile?(
    tokens: readonly string[],
    dirs?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ReconciledJob> | undefined>;
  close(): Promise<void>;
}

/** A job `cancel` did not signal, and why. */
export interface CancelSkip {
  jobId: string;
  reason: string;
}

/**
 * What a cancel did. A job in neither list was signalled (or the scheduler accepted its cancel).
 * `refused`: not signalled although it may still run (a pid not provably the job's, a scheduler error):
 * it must stay tracked. `gone`: nothing left to signal (the job already ended): its outcome is still to
 * be collected, so it is not "cancelled" either.
 */
export interface CancelResult {
  refused: CancelSkip[];
  gone: CancelSkip[];
}

/** A job found by its write-ahead token (`Scheduler.reconcile`). */
export interface ReconciledJob extends StartedJob {
  state: JobState;
  /** Where the job runs, when the scheduler knows (SLURM's working dir). */
  jobDir?: string;
}

/** What `explainPending` found: `never` false means "only wait" (e.g. the nodes are back). */
export interface PendingExplanation {
  never: boolean;
  /** The limit the job hit, as a phrase; absent when the scheduler could not tell. */
  detail?: string;
}

/** Watches the completion markers of a set of jobs (see `Executor.watchDone`). */
export interface DoneWatcher {
  /** Start watching one job (a job whose marker is there already is reported at once). */
  add(job: SubmittedJob): void;
  /** Stop watching one job (it ended or was cancelled). */
  remove(jobId: string): void;
  /** Whether the job's markers are being watched right now (false while a remote watcher restarts). */
  watching(jobId: string): boolean;
  close(): Promise<void>;
}

/** Exit code of a long-running command the host refuses to start (see `StreamingCommand.done`). */
export const STREAM_REFUSED = 125;

/**
 * A long-running command: its stdin stays open for lines sent later, its stdout arrives line by line.
 * Holds one channel of an SSH host for its whole life.
 */
export interface StreamingCommand {
  /** Send one line (a newline is added) to the command's stdin. */
  write(line: string): void;
  /** Close the command's stdin: a well-behaved command exits. */
  end(): void;
  /**
   * Settles when the command exited (`code`) or its connection was lost (`code: null`); never rejects.
   * `STREAM_REFUSED` (125): the host will never run one (no channel to spare), do not try again.
   */
  readonly done: Promise<CommandResult>;
}

/** Result of one shell command on a host. `code: null` means the connection was lost. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Where scheduler commands run and job dirs live: this machine, or a login node over SSH. Schedulers
 * and the job-dir work are written once against this interface; only the host differs.
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
  /** Start a long-running command fed through stdin, its stdout line by line (optional capability). */
  stream?(command: string, onLine: (line: string) => void): StreamingCommand;
  close(): Promise<void>;
}

/** What a job got from its scheduler at submission. */
export interface StartedJob {
  jobId: string;
  /** Local pid of the job's process group leader (schedulers that run processes on this machine). */
  pid?: number;
  /** What proves `pid` is still this job (see ProcessIdentity). */
  procId?: ProcessIdentity;
}

/**
 * A batch system: renders and starts jobs, polls and cancels many at once, remembers final states.
 * It runs its commands through a `Host`; preparing the job dir and reading logs is not its job (JobDir).
 */
export interface Scheduler {
  /** Shown in messages and as the plan's launcher. */
  readonly name: string;
  /** Pure apart from reading local file sizes: the files the job dir gets and the exact command. */
  render(spec: JobSpec, jobDir: string, uploads: readonly Upload[]): SubmissionPlan;
  /** Start a job whose files are already in place. Throws a SubmitError when refused. */
  submit(plan: SubmissionPlan, spec: JobSpec): Promise<StartedJob>;
  /** States of many jobs in as few commands as possible; a final state is never asked for again. */
  poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>>;
  /**
   * Cancel many jobs at once; unknown or finished ones are ignored. Returns the jobs it refused to
   * signal or found gone (void: every job was signalled or its cancel accepted).
   */
  cancel(jobs: readonly SubmittedJob[]): Promise<CancelResult | void>;
  /** See `Executor.explainPending`. */
  explainPending?(job: SubmittedJob, reason: string): Promise<PendingExplanation>;
  /**
   * Optional: the jobs carrying these write-ahead tokens, in one query (SLURM: `squeue -u` with the
   * comment, plus `sacct` when accounting is on). Without it, a run killed between submit and ledger write
   * cannot find that job again (the next run says so). `dirs`: token → the job dir the job would have
   * (given for job dirs on this machine), where a scheduler may find a job that already ended.
   */
  reconcile?(
    tokens: readonly string[],
    dirs?: ReadonlyMap<string, string>,
  ): Promise<Map<string, ReconciledJob>>;
  close?(): Promise<void>;
}

/** An extra file copied into every job dir (besides config/worker configs/simulator files). */
export interface Upload {
  /** File name inside the job dir. */
  name: string;
  /** Path on this machine. */
  localPath: string;
  mode?: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Tuning and test hooks a caller may add to the settings; every field is optional. */
export interface ExecutorExtras {
  /** Extra files for every job, or a function choosing them per job. */
  uploads?: Upload[] | ((spec: JobSpec) => Upload[]);
  /** Use this host instead of the backend's (tests wrap hosts, e.g. CountingHost). */
  host?: Host;
  /** Job dirs go under this dir on the host (default for remote hosts: `<remote home>/vitest-disagg`). */
  remoteDir?: string;
  /** The remote home when known: a plan (dry run) then never connects to ask for it. */
  remoteHome?: string;
  /** Built only for `plan()` (dry run): SSH credentials are not required (nothing connects). */
  planOnly?: boolean;
  /** Force sacct on or off; default: try it and stop once it says accounting is disabled. */
  accounting?: boolean;
  /** Retries when sbatch is refused by a per-user limit (QOSMaxSubmitJobPerUserLimit, …). */
  submitRetry?: RetryPolicy;
  /** Files up to this size are fetched whole (default 16 MiB). */
  smallFileBytes?: number;
  /** Of bigger files, only this many trailing bytes are fetched (default 8 MiB). */
  tailBytes?: number;
  /** Tuning of the SSH connection (channel limit, retries), for the 'ssh' host. */
  sshHost?: SshHostOptions;
  /** Progress messages (QOS waits, truncated logs). */
  log?: (message: string) => void;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** How long reconcile waits for a killed run's submit command still running (default 120 000 ms). */
  orphanSubmitWaitMs?: number;
}

/** What a scheduler factory gets. */
export interface SchedulerContext {
  settings: ExecutorSettings;
  host: Host;
  extras: ExecutorExtras;
}

/** Events of the SSH connection (tests and benchmarks watch reconnects). */
export type SshHostEvent =
  | { type: 'connected'; generation: number; reconnect: boolean }
  | { type: 'connection-lost'; generation: number; command?: string }
  | { type: 'channel-retry'; attempt: number; error: string };

export interface SshHostOptions {
  /** Concurrent channels on the connection (default 4; OpenSSH's MaxSessions is 10). */
  maxChannels?: number;
  /** Retries of `Channel open failure` per command. */
  channelRetry?: RetryPolicy;
  /** Reconnection after a lost connection. */
  reconnect?: RetryPolicy;
  /** Attempts of the very first connection (fail fast on a wrong host or port). */
  initialConnectAttempts?: number;
  /** How many times one command may be re-run because the connection was lost. */
  maxLostRetries?: number;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  onEvent?: (event: SshHostEvent) => void;
}
