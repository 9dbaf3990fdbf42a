import path from 'node:path';
import { latestLinkFor } from '../broker/job-dirs.js';
import type { ExecutorKind } from '../executors/types.js';
import { parseInterval } from '../util/duration.js';

/** Options of `disagg({...})` in vitest.config.ts. Every one has an env var that overrides it. */
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
  /** `KEY=VALUE` file for placeholders. Env `DISAGG_ENV_FILE`. */
  envFile?: string;
  /** Jobs in flight at once; 0 = unlimited. Env `DISAGG_BATCH_SIZE`. Default 0 (local: 2). */
  maxJobsInFlight?: number;
  /** Vitest workers (each judges one config at a time). Default 8. */
  maxWorkers?: number;
  /** Vitest watch mode. Default false: saving a YAML must never resubmit a GPU job. */
  watch?: boolean;
  /** Re-attach to jobs of a crashed run instead of resubmitting. Env `DISAGG_RESUME` (0 = off). */
  resume?: boolean;
  /** Poll interval bounds in ms: starts at `min`, backs off to `max` for long jobs. */
  pollIntervalMs?: { min?: number; max?: number };
  /** Heartbeat line per live job: `5m`, `30s`, ms as a number; 0 = off. Env `DISAGG_HEARTBEAT`. Default 5 min. */
  heartbeat?: string | number;
  /** SSH settings for executor `ssh` (env `DISAGG_SSH_*` override). */
  ssh?: {
    host?: string;
    port?: number;
    username?: string;
    privateKeyPath?: string;
    knownHostsPath?: string;
    remoteDir?: string;
  };
}

/** Options after env overrides; plain data so it can be `provide`d to workers. */
export interface ResolvedOptions {
  root: string;
  configDir: string;
  executor: ExecutorKind;
  outputPath: string;
  gpuType: string;
  testList?: string;
  envFile?: string;
  maxJobsInFlight: number;
  maxWorkers: number;
  watch: boolean;
  resume: boolean;
  pollMinMs: number;
  pollMaxMs: number;
  heartbeatMs: number;
  /** Under the VS Code extension (`VITEST_VSCODE=true`): job updates also go to the test's console output, which it shows per test. */
  progressToConsole: boolean;
  debug: { enabled: boolean; jobId?: string };
  ssh: NonNullable<DisaggOptions['ssh']>;
}

const EXECUTORS: readonly ExecutorKind[] = ['local', 'slurm', 'ssh'];

function intFromEnv(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${name}=${value} is not a whole number`);
  return n;
}

/** `DISAGG_HEARTBEAT` (or the option) to ms; default 5 minutes. */
function heartbeatFrom(envValue: string | undefined, option: string | number | undefined): number {
  if (envValue !== undefined && envValue.trim() !== '') {
    const ms = parseInterval(envValue);
    if (ms === undefined)
      throw new Error(`DISAGG_HEARTBEAT=${envValue} is not an interval like 30s, 5m or 0 (off)`);
    return ms;
  }
  if (typeof option === 'number') return Math.max(0, option);
  if (option === undefined) return 5 * 60_000;
  const ms = parseInterval(option);
  if (ms === undefined)
    throw new Error(`disagg({ heartbeat: '${option}' }) is not an interval like 30s, 5m or 0 (off)`);
  return ms;
}

export function resolveOptions(
  options: DisaggOptions,
  env: NodeJS.ProcessEnv = process.env,
  root: string = process.cwd(),
): ResolvedOptions {
  const executorValue = env.DISAGG_EXECUTOR || options.executor || 'local';
  if (!EXECUTORS.includes(executorValue as ExecutorKind)) {
    throw new Error(`DISAGG_EXECUTOR=${executorValue} is not one of ${EXECUTORS.join(', ')}`);
  }
  const executor = executorValue as ExecutorKind;
  const batch = intFromEnv('DISAGG_BATCH_SIZE', env.DISAGG_BATCH_SIZE) ?? options.maxJobsInFlight;
  // The local executor runs jobs on this machine's cores: unlimited would overload a laptop.
  const maxJobsInFlight = batch === undefined ? (executor === 'local' ? 2 : 0) : Math.max(0, batch);
  const abs = (p: string) => path.resolve(root, p);
  return {
    root,
    configDir: abs(env.DISAGG_CONFIG_DIR || options.configDir || 'stress-configs'),
    executor,
    outputPath: abs(env.OUTPUT_PATH || options.outputPath || 'output'),
    gpuType: env.GPU_TYPE || options.gpuType || 'GB200',
    testList: env.DISAGG_TEST_LIST ? abs(env.DISAGG_TEST_LIST) : options.testList && abs(options.testList),
    envFile: env.DISAGG_ENV_FILE ? abs(env.DISAGG_ENV_FILE) : options.envFile && abs(options.envFile),
    maxJobsInFlight,
    maxWorkers: options.maxWorkers ?? 8,
    watch: options.watch ?? false,
    resume: env.DISAGG_RESUME !== undefined ? env.DISAGG_RESUME !== '0' : (options.resume ?? true),
    pollMinMs: options.pollIntervalMs?.min ?? (executor === 'local' ? 250 : 2000),
    pollMaxMs: options.pollIntervalMs?.max ?? (executor === 'local' ? 2000 : 30_000),
    heartbeatMs: heartbeatFrom(env.DISAGG_HEARTBEAT, options.heartbeat),
    progressToConsole: env.VITEST_VSCODE === 'true',
    debug: { enabled: env.DEBUG_MODE === '1', jobId: env.DEBUG_JOB_ID || undefined },
    ssh: {
      ...options.ssh,
      host: env.DISAGG_SSH_HOST || options.ssh?.host,
      port: intFromEnv('DISAGG_SSH_PORT', env.DISAGG_SSH_PORT) ?? options.ssh?.port,
      username: env.DISAGG_SSH_USER || options.ssh?.username,
      privateKeyPath: env.DISAGG_SSH_KEY || options.ssh?.privateKeyPath,
      knownHostsPath: env.DISAGG_SSH_KNOWN_HOSTS || options.ssh?.knownHostsPath,
      remoteDir: env.DISAGG_REMOTE_DIR || options.ssh?.remoteDir,
    },
  };
}

/** `$OUTPUT_PATH/slurm_logs/<testId>`: the link to the test's latest run dir (layout: src/broker/job-dirs.ts). */
export function logDirFor(opts: Pick<ResolvedOptions, 'outputPath'>, testId: string): string {
  return latestLinkFor(opts.outputPath, testId);
}
