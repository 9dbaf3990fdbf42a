// The user-facing option object of `disagg({...})` and the resolved settings every stage receives.
import type { PerfGateSpec, SloSpec } from '../types.js';
import type { ConfigLimits } from '../config/limits.js';
import type { ExecutorKind, ExecutorSettings, Launcher, ResourceMode } from './types.js';

/** How YAML configs become Vitest test modules (option `testModules`). */
export type TestModules = 'config' | 'folder' | 'auto';
export const TEST_MODULES: readonly TestModules[] = ['auto', 'config', 'folder'];

/** Options of `disagg({...})` in vitest.config.ts. An env var (or DISAGG_ENV_FILE value) overrides each. */
export interface DisaggOptions {
  /** Root of the YAML tree. Env `DISAGG_CONFIG_DIR`. Default `stress-configs`. */
  configDir?: string;
  /** Where jobs run: `local` (default), `slurm` (sbatch on this machine) or `ssh`. Env `DISAGG_EXECUTOR`. */
  executor?: ExecutorKind;
  /** Output root: CSV, job ledger, `slurm_logs/`. Env `OUTPUT_PATH`. Default `./output`. */
  outputPath?: string;
  /** GPU type the configs are filtered on. Env `GPU_TYPE`. Default `GB200`. */
  gpuType?: string;
  /** Only run the tests listed in this file. Env `DISAGG_TEST_LIST`. */
  testList?: string;
  /** `KEY=VALUE` file for placeholders and settings. Env `DISAGG_ENV_FILE`. */
  envFile?: string;
  /** Jobs in flight at once; 0 = unlimited. Env `DISAGG_BATCH_SIZE`. Default 0 (local: 2). */
  maxJobsInFlight?: number;
  /** Vitest workers (each judges one config at a time). Default 8. */
  maxWorkers?: number;
  /**
   * `config`: each YAML is its own test module (the explorer and `vitest list` show the YAML).
   * `folder`: one generated module per `<test_type>/<category>` folder, for suites of hundreds of
   * configs (Vitest's cost is per module). `auto` (default): `folder` above 200 selected configs, else
   * `config`. Env `DISAGG_TEST_MODULES`.
   */
  testModules?: TestModules;
  /** Vitest watch mode. Default false: saving a YAML must never resubmit a GPU job. */
  watch?: boolean;
  /** Re-attach to jobs of a crashed run instead of resubmitting. Env `DISAGG_RESUME` (0 = off). */
  resume?: boolean;
  /** Poll interval bounds in ms: starts at `min`, backs off to `max` for long jobs. */
  pollIntervalMs?: { min?: number; max?: number };
  /**
   * Seconds a job may sit PENDING for a reason that means it can never start (PartitionTimeLimit, …)
   * before it is cancelled and its test fails. Env `DISAGG_NEVER_START_GRACE`. Default 60.
   */
  neverStartGraceSec?: number;
  /**
   * Seconds polling (squeue) may keep failing before the run cancels its jobs and fails their tests.
   * Env `DISAGG_POLL_GIVE_UP`. Default 600.
   */
  pollGiveUpSec?: number;
  /**
   * Seconds between squeue/sacct safety polls once done markers are watched (push completion); the
   * end of a job that writes no marker (killed by SLURM) is seen by this tick. Env `DISAGG_SAFETY_POLL`
   * (seconds, or `90s`, `2m`). Default 60.
   */
  safetyPollSec?: number;
  /** Heartbeat line per live job: `5m`, `30s`, ms as a number; 0 = off. Env `DISAGG_HEARTBEAT`. Default 5 min. */
  heartbeat?: string | number;
  /** Over-concurrency and unknown keys are errors instead of warnings. Env `DISAGG_STRICT=1`. */
  strict?: boolean;
  /**
   * Print every perf change against history (each metric × concurrency), not only each test's
   * largest. Env `DISAGG_VERBOSE=1`; `--reporter=verbose` turns it on too. Default false.
   */
  verbose?: boolean;
  /**
   * Suite-wide perf gates (same shape as a config's `gates`), used by every test whose YAML has no
   * `gates` of its own (`gates: []` in a YAML turns them off for it). Default none.
   */
  gates?: PerfGateSpec[];
  /**
   * Suite-wide latency objectives for goodput and SLO attainment (`{ ttft_ms, tpot_ms, e2el_ms }`, each
   * optional), used by every test whose YAML has no `benchmark.slo` of its own. Default none.
   */
  slo?: SloSpec;
  /** Largest config file in bytes; a larger one fails alone. Env `DISAGG_MAX_CONFIG_BYTES`. Default 1 MiB. */
  maxConfigBytes?: number;
  /** sbatch settings for executors `slurm` and `ssh` (env `DISAGG_PARTITION`, … override). */
  slurm?: {
    partition?: string;
    account?: string;
    /** `auto` (default), `sbatch` or `submit.py`. Env `DISAGG_LAUNCHER`. */
    launcher?: Launcher;
    /** Job scripts that read their config from the job dir (sbatch, no arguments). Env `DISAGG_JOB_DIR_SCRIPTS`. */
    jobDirScripts?: string[];
    resources?: ResourceMode;
    /** Folder of submit.py / job scripts (env `DISAGG_SCRIPT_DIR`, `SCRIPT_DIR`). */
    scriptDir?: string;
  };
  /** SSH settings for executor `ssh` (env `DISAGG_SSH_*` override). */
  ssh?: {
    host?: string;
    port?: number;
    username?: string;
    privateKeyPath?: string;
    knownHostsPath?: string;
    remoteDir?: string;
    proxyJump?: string;
    configPath?: string;
  };
}

/**
 * Every setting after env, env file, options and defaults were applied. Plain data (it is `provide`d
 * to the workers); nothing downstream reads the environment again.
 */
export interface ResolvedOptions {
  /** Project root relative paths are resolved against. */
  root: string;
  configDir: string;
  executor: ExecutorKind;
  outputPath: string;
  gpuType: string;
  testList?: string;
  envFile?: string;
  maxJobsInFlight: number;
  maxWorkers: number;
  testModules: TestModules;
  watch: boolean;
  resume: boolean;
  pollMinMs: number;
  pollMaxMs: number;
  /** Grace before a never-startable pending job is cancelled (ms). */
  neverStartGraceMs: number;
  /** How long polling may keep failing before the run gives up on its jobs (ms). */
  pollGiveUpMs: number;
  /** Interval of the safety poll while done markers are watched (option `safetyPollSec`). */
  safetyPollMs: number;
  /** Interval of the per-job heartbeat line; 0 = off. */
  heartbeatMs: number;
  /** Under the VS Code extension (`VITEST_VSCODE=true`): job updates also go to the test's console output, which it shows per test. */
  progressToConsole: boolean;
  strict: boolean;
  /** Every perf change against history on the console (option `verbose`, or `--reporter=verbose`). */
  verbose: boolean;
  /** Suite-wide default perf gates (option `gates`). */
  gates: PerfGateSpec[];
  /** Suite-wide latency objectives (option `slo`); undefined: none. */
  slo?: SloSpec;
  /** Bounds on one config file (size from `maxConfigBytes`; the rest are fixed defaults). */
  configLimits: ConfigLimits;
  debug: { enabled: boolean; jobId?: string };
  /** SSH options as the plugin option spelled them (env applied); the full input is `executorSettings.ssh`. */
  ssh: NonNullable<DisaggOptions['ssh']>;
  /** Values for config placeholders (SLURM_PARTITION, MODEL_DIR, …; OUTPUT_PATH = `outputPath`). */
  placeholderVars: Record<string, string>;
  /** Everything an executor needs. */
  executorSettings: ExecutorSettings;
}
