import type {
  AccuracyDataset,
  SLO,
  MetricsOverride as SchemaMetricsOverride,
  VitestDisaggTestConfig,
} from './config-type.generated.js';
// Shared data types. Data flows one way: config → job → logs → results → verdict.
// Each stage owns its module; this file only holds the shapes that cross module boundaries.

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

export type Category = 'perf' | 'accuracy' | 'stress';
export const CATEGORIES: readonly Category[] = ['perf', 'accuracy', 'stress'];

/** One problem found in a config file. `path` is a YAML path like `benchmark.concurrency_list`. */
export interface Problem {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
  /** Which stage found it (optional, additive): YAML syntax, JSON schema, semantic check. */
  source?: 'yaml' | 'schema' | 'check';
}

/** A config file found on disk, before it is read. */
export interface ConfigEntry {
  /** Absolute path of the YAML file. */
  file: string;
  /** Path relative to the config dir (for messages). */
  relFile: string;
  testType: string;
  category: Category;
  /**
   * The category folder when it is not the category itself: `perf-sanity` (upstream's perf-sanity
   * configs, judged as `perf`). It names the test instead of the category.
   */
  folder?: string;
  stem: string;
  /** `{testType}_{folder or category}_{stem}` — the original framework's test id. */
  testId: string;
}

/**
 * A config as loaded (before validation says it is complete): the type generated from the JSON Schema
 * (src/config-type.generated.ts), so the schema is the one source of truth, with every key
 * optional.
 */
export type DisaggConfig = DeepPartial<VitestDisaggTestConfig>;

/** Every key optional, at every depth (arrays keep their element type). */
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

type Section<K extends keyof DisaggConfig> = NonNullable<DisaggConfig[K]>;

/** One entry of `metadata.accuracy.datasets`. */
export type AccuracyDatasetConfig = DeepPartial<AccuracyDataset> & { expected_value: number };
/** `metadata.metrics` (the original's perf metric override). */
export type MetricsOverride = DeepPartial<SchemaMetricsOverride>;
export type SimulatorConfig = Section<'simulator'>;
export type SimulatorFaults = NonNullable<SimulatorConfig['faults']>;
export type ConcurrencyList = NonNullable<Section<'benchmark'>['concurrency_list']>;

/** One perf gate as written in a YAML config (`gates:`, from the schema); judged by src/stats/gates.ts. */
export type PerfGateSpec = NonNullable<VitestDisaggTestConfig['gates']>[number];
/** Latency objectives for goodput (a config's `benchmark.slo`, or the suite-wide `slo` option). */
export type SloSpec = SLO;
/** The history rule's settings as a gate writes them (`history: { runs, min_runs, tolerance, noise_k }`). */
export type HistoryGateSpec = Exclude<NonNullable<PerfGateSpec['history']>, boolean>;

/** A config after loading: parsed YAML (anchors resolved), problems, selection. */
export interface LoadedConfig extends ConfigEntry {
  config: DisaggConfig;
  problems: Problem[];
  /** Set when the test must be skipped (e.g. GPU not supported); the reason is shown to the user. */
  skipReason?: string;
  /** sha256 of the file's bytes plus the env values it resolved: equal hash = same job. */
  hash: string;
  /** Environment variables used to fill placeholders (variable → value). */
  resolvedVars?: Record<string, string>;
  /** Placeholders still unfilled; submitting is an error while any remain. */
  unresolved?: UnresolvedPlaceholder[];
  /**
   * Old-format keys moved where newer submit.py reads them (`sequence.input_length → benchmark.input_length`,
   * …); `config` is already converted. Absent when the file is in the newer format.
   */
  formatMoves?: string[];
  /** 1-based line and column of a YAML path in the file (its key or its value), as problems are located. */
  locate?(path: ReadonlyArray<string | number>, at?: 'key' | 'value'): { line: number; column: number };
}

/** A placeholder value (e.g. `<partition>`) that no environment variable filled. */
export interface UnresolvedPlaceholder {
  /** YAML path, e.g. `slurm.partition`. */
  path: string;
  /** The placeholder text, e.g. `<partition>`. */
  placeholder: string;
  /** The variable(s) that would fill it, e.g. `SLURM_PARTITION`; empty when none is known. */
  variable: string;
}

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

export type JobState =
  | 'PENDING'
  | 'CONFIGURING'
  | 'RUNNING'
  | 'COMPLETING'
  | 'SUSPENDED'
  | 'REQUEUED'
  | 'RESIZING'
  | 'COMPLETED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'NODE_FAIL'
  | 'OUT_OF_MEMORY'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | 'UNKNOWN';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set<JobState>([
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'CANCELLED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);

export interface JobStatus {
  jobId: string;
  state: JobState;
  /** SLURM style `exit:signal`, e.g. `3:0`. */
  exitCode?: string;
  reason?: string;
  /** The nodes the job runs on (SLURM's node list), when the executor reports them. */
  nodes?: string;
  /**
   * When the job itself started and ended (ISO 8601), as the scheduler recorded them (the local
   * process's start and exit, SLURM's StartTime/EndTime), when known: queue and run times come from
   * these, not from the polls that saw the states (a job may end between two polls).
   */
  startedAt?: string;
  endedAt?: string;
}

/** What an executor needs to run one config. */
export interface JobSpec {
  testId: string;
  configHash: string;
  /** The resolved config (placeholders filled in). */
  config: DisaggConfig;
  configFile: string;
  /** Local directory the logs end up in: this run's `$OUTPUT_PATH/slurm_logs/runs/<runId>/<testId>` (see src/broker/job-dirs.ts). */
  localLogDir: string;
  /** Hard limit for the job (SLURM --time, local kill). */
  timeLimitMs: number;
  /**
   * The write-ahead token of this submission (`dsg-<runId>-<n>-<hex>`), recorded in the ledger before the
   * job is submitted and given to the job (SLURM `--comment`, the local job's environment), so that a run
   * killed between the submit and the ledger write finds the job again (see src/broker/write-ahead.ts).
   */
  submitToken?: string;
}

export interface SubmittedJob {
  jobId: string;
  testId: string;
  /** Where the job runs and writes its logs (remote path for ssh, local path otherwise). */
  jobDir: string;
  /** Local pid of the job's process group leader (local executor only). */
  pid?: number;
  /** What proves `pid` is still our job (local executor only): checked before any signal. */
  procId?: ProcessIdentity;
  submittedAt: string;
}

/** A local job's process identity beyond its pid, which the OS may reuse for an unrelated process. */
export interface ProcessIdentity {
  /** Field 22 of /proc/<pid>/stat at submit (clock ticks since boot). */
  startTime: string;
  /** Random token in the job's environment (DISAGG_JOB_TOKEN). */
  token: string;
}

export interface JobOutcome {
  testId: string;
  jobId: string;
  state: JobState;
  exitCode?: string;
  reason?: string;
  /** Local log dir holding the collected logs. */
  logDir: string;
  /** Fatal line found by the early-failure scan, if the job was cancelled because of it. */
  earlyFailure?: string;
  /** Last lines of the most relevant log, for failure messages. */
  logTail?: string;
  /** True when the job was re-attached from the ledger instead of submitted by this run. */
  resumed: boolean;
  /** Why this run cancelled the job (`cancelled by Ctrl-C`, the test was aborted…), when it did. */
  cancelledBy?: string;
  /** When the job was submitted and when its end was seen (ISO 8601). */
  submittedAt?: string;
  endedAt?: string;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** One `Serving Benchmark Result` block. Metric keys: see parsers/bench.ts. */
export interface BenchBlock {
  concurrency: number | null;
  /** False when the `Benchmark with concurrency N done` line is missing (crash). */
  completed: boolean;
  warmup: boolean;
  metrics: Record<string, number>;
}

export interface BenchParseResult {
  blocks: BenchBlock[];
  /** Concurrency announced by `Benchmarking with concurrency N` with no result block after it. */
  missing: number[];
}

export interface AccuracyResultRow {
  task: string;
  filter: string;
  metric: string;
  value: number;
  stderr: number | null;
  n_shot: number | null;
  version: string | null;
}

export interface AccuracyRun {
  /** The lm-eval header line before the table, if found. */
  header?: string;
  results: AccuracyResultRow[];
}

export interface ThresholdResult {
  threshold: number;
  theta: number;
}

export interface DatasetVerdict {
  dataset: string;
  filter: string;
  metric: string;
  passed: boolean;
  observed?: number;
  expected: number;
  threshold: number;
  theta?: number;
  n?: number;
  alpha?: number;
  beta?: number;
  thresholdType: 'hypothesis_test' | 'absolute';
  higherIsBetter: boolean;
  /** One sentence a person understands. */
  message: string;
  /**
   * The message's first clause, one line (`gsm8k (flexible-extract, exact_match): FAILED: observed … is
   * below the threshold …`): what a summary shows, so no reader has to cut the message.
   */
  headline: string;
  warnings: string[];
  /** 1-based index of the run in the accuracy log this verdict judges (several runs → several verdicts). */
  run?: number;
}

/** A waiting test's job as last seen: what the progress lines and annotations show. */
export interface LiveJobState {
  jobId: string;
  state: string;
  reason?: string;
  nodes?: string;
  /** When this state was first seen (ISO 8601). */
  since?: string;
  /** Highest concurrency the benchmark reached so far. */
  concurrency?: number;
}

/** What the perf step found, as kept in the test's meta and shown by the summary reporter. */
export interface PerfSummary {
  concurrencies: number[];
  rows: number;
  csv: string;
  incomplete: number[];
  failedRequests: number;
  metrics: Record<string, Record<string, number>>;
  /** The latency objectives goodput and `slo_attainment` were judged against, when set. */
  slo?: SloSpec;
  /** Gate verdicts in words (`passed` null: no verdict). */
  gates?: PerfVerdict[];
  /** Without gates: the changes against history, in words (never fail the test). */
  deltas?: PerfVerdict[];
  /** Without gates: the one line printed about history, the largest of `deltas`. */
  delta?: string;
  /** The worst change against history or gate margin, in words, for the closing summary. */
  worst?: string;
}

/** One perf verdict (a gate check or an informational delta against history). */
export interface PerfVerdict {
  kind: string;
  metric: string;
  concurrency: number | null;
  /** The measured value (null: not measured); absent in records written before it was kept. */
  value?: number | null;
  /** What the value was judged against: the limit, the reference, or the baseline median of history. */
  bound?: number;
  passed: boolean | null;
  message: string;
  /** 0-based index of the gate in its list (a gate check), for pointing at its YAML entry. */
  gate?: number;
}

/** What the accuracy step judged, as kept in the test's meta. */
export interface AccuracySummary {
  logs: string[];
  verdicts: Array<Pick<DatasetVerdict, 'dataset' | 'passed' | 'observed' | 'threshold' | 'message'>>;
}

// ---------------------------------------------------------------------------------------------
// Verdict
// ---------------------------------------------------------------------------------------------

/**
 * A disagg test's record in Vitest's task meta (`task.meta.disagg`): written by the fixtures in the
 * worker, read by reporters in the main process. Plain data only (it is serialised between them).
 */
export interface DisaggMeta {
  testId: string;
  file: string;
  category: string;
  testType: string;
  jobId?: string;
  /** Where the test's logs are now (after an `_ERROR` rename, the renamed dir). */
  logDir?: string;
  /** Where the logs will be if this test fails (`<logDir>_ERROR`; the same dir in DEBUG_MODE). */
  failureLogDir?: string;
  jobState?: string;
  /** The scheduler's reason for the job's final state, when it gave one. */
  jobReason?: string;
  /** The job's latest scheduler state as the broker pushed it while the test waited. */
  live?: LiveJobState;
  perf?: PerfSummary;
  accuracy?: AccuracySummary;
  /**
   * One line saying why a verdict step failed the test, set by that step as it throws (written and read
   * through `src/stats/failure-reason.ts`): the run summary's reason line.
   */
  failureReason?: string;
}
