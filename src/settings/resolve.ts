// The settings core: plugin options, environment variables and the DISAGG_ENV_FILE file resolved in one
// place, with one precedence for every setting:
//
//   process environment  >  DISAGG_ENV_FILE values  >  disagg({...}) options  >  defaults
//
// An empty variable counts as unset. The env file is named by DISAGG_ENV_FILE (env) or the `envFile`
// option and cannot name another env file. This is the only module of the plugin that reads
// `process.env` (the simulator, a separate program, aside); every other stage takes the result.
import { parseInterval } from '../util/duration.js';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG_DIR } from '../config/discover.js';
import { DEFAULT_CONFIG_LIMITS } from '../config/limits.js';
import { PLACEHOLDER_VARIABLES } from '../config/placeholders.js';
import { DEFAULT_GPU_TYPE } from '../config/select.js';
import { SettingsError } from '../errors.js';
import type { SloSpec } from '../types.js';
import { readEnvFile } from './env-file.js';
import { TEST_MODULES, type DisaggOptions, type ResolvedOptions } from './options.js';
import type { ExecutorKind, ExecutorSettings, Launcher, ResourceMode, SshInput } from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_OUTPUT_PATH = 'output';

const EXECUTORS: readonly ExecutorKind[] = ['local', 'slurm', 'ssh'];
const LAUNCHERS: readonly Launcher[] = ['auto', 'sbatch', 'submit.py'];
const RESOURCES: readonly ResourceMode[] = ['config', 'single'];

/** Where a value came from, for error messages. */
interface Source {
  value: string;
  label: string;
}

/** One variable looked up by the precedence above (options are applied by the caller). */
export type Lookup = (name: string) => Source | undefined;

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** env > env file. */
function makeLookup(env: Env, fileVars: Record<string, string>, envFile: string | undefined): Lookup {
  return (name) => {
    const fromEnv = nonEmpty(env[name]);
    if (fromEnv !== undefined) return { value: fromEnv, label: `${name}=${fromEnv}` };
    const fromFile = nonEmpty(fileVars[name]);
    if (fromFile !== undefined) return { value: fromFile, label: `${name}=${fromFile} (in ${envFile})` };
    return undefined;
  };
}

function oneOf<T extends string>(s: Source, allowed: readonly T[]): T {
  if (!allowed.includes(s.value as T)) {
    throw new SettingsError(`${s.label} is not one of ${allowed.join(', ')}`);
  }
  return s.value as T;
}

function wholeNumber(s: Source): number {
  const n = Number(s.value);
  if (!Number.isInteger(n)) throw new SettingsError(`${s.label} is not a whole number`);
  return n;
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

function flag(s: Source): boolean {
  const v = s.value.toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new SettingsError(`${s.label} must be 1 or 0 (true/false)`);
}

function optionOneOf<T extends string>(name: string, v: T | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  return oneOf({ value: v, label: `option ${name}: '${v}'` }, allowed);
}

/** `DISAGG_SAFETY_POLL` (seconds or an interval like `90s`) or the `safetyPollSec` option, in ms; default 60 s. */
function safetyPollFrom(s: Source | undefined, option: number | undefined): number {
  if (s) {
    const ms = /^\d+(\.\d+)?$/.test(s.value.trim()) ? Number(s.value) * 1000 : parseInterval(s.value);
    if (ms === undefined || !(ms >= 1000))
      throw new SettingsError(
        `${s.label} is not a number of seconds (at least 1) or an interval like 90s or 2m`,
      );
    return ms;
  }
  if (option === undefined) return 60_000;
  if (!Number.isFinite(option) || option < 1)
    throw new SettingsError(`option safetyPollSec: ${option} is not a number of seconds of at least 1`);
  return option * 1000;
}

/** `DISAGG_HEARTBEAT` (or the `heartbeat` option) in ms; default 5 minutes, 0 = off. */
function heartbeatFrom(s: Source | undefined, option: string | number | undefined): number {
  if (s) {
    const ms = parseInterval(s.value);
    if (ms === undefined) throw new SettingsError(`${s.label} is not an interval like 30s, 5m or 0 (off)`);
    return ms;
  }
  if (typeof option === 'number') return Math.max(0, option);
  if (option === undefined) return 5 * 60_000;
  const ms = parseInterval(option);
  if (ms === undefined) {
    throw new SettingsError(`option heartbeat: '${option}' is not an interval like 30s, 5m or 0 (off)`);
  }
  return ms;
}

/** `DISAGG_MAX_CONFIG_BYTES` (or the `maxConfigBytes` option): a positive whole number of bytes. */
function maxConfigBytesFrom(s: Source | undefined, option: number | undefined): number {
  if (s) {
    const n = wholeNumber(s);
    if (n <= 0) throw new SettingsError(`${s.label} must be a positive number of bytes`);
    return n;
  }
  if (option === undefined) return DEFAULT_CONFIG_LIMITS.maxBytes;
  if (!Number.isInteger(option) || option <= 0) {
    throw new SettingsError(`option maxConfigBytes: ${option} is not a positive whole number of bytes`);
  }
  return option;
}

/** A duration in seconds (env var or option), non-negative; returned in ms. */
const SLO_KEYS = ['ttft_ms', 'tpot_ms', 'e2el_ms'] as const;

/** The `slo` option: an object of positive ms limits, at least one, no other key. */
function sloFrom(slo: unknown): SloSpec {
  const example = 'e.g. slo: { ttft_ms: 500, tpot_ms: 50 }';
  if (typeof slo !== 'object' || slo === null || Array.isArray(slo))
    throw new SettingsError(`option slo: must be an object of latency limits in ms (${example})`);
  const out: SloSpec = {};
  for (const [k, v] of Object.entries(slo as Record<string, unknown>)) {
    if (!(SLO_KEYS as readonly string[]).includes(k))
      throw new SettingsError(`option slo.${k}: unknown key; use ${SLO_KEYS.join(', ')} (${example})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new SettingsError(`option slo.${k}: ${JSON.stringify(v)} is not a number of ms above 0`);
    out[k as (typeof SLO_KEYS)[number]] = v;
  }
  if (!Object.keys(out).length) throw new SettingsError(`option slo: states no objective (${example})`);
  return out;
}

function secondsFrom(
  s: Source | undefined,
  option: number | undefined,
  optionName: string,
  defaultSec: number,
): number {
  if (s) {
    const n = Number(s.value);
    if (!Number.isFinite(n) || n < 0)
      throw new SettingsError(`${s.label} is not a number of seconds (0 or more)`);
    return Math.round(n * 1000);
  }
  if (option === undefined) return defaultSec * 1000;
  if (!Number.isFinite(option) || option < 0) {
    throw new SettingsError(`option ${optionName}: ${option} is not a number of seconds (0 or more)`);
  }
  return Math.round(option * 1000);
}

/** A larger file may expand further: the expanded-size bound grows with the file-size bound. */
function limitsFor(maxBytes: number): ResolvedOptions['configLimits'] {
  const d = DEFAULT_CONFIG_LIMITS;
  return { ...d, maxBytes, maxExpandedBytes: Math.max(d.maxExpandedBytes, 8 * maxBytes) };
}

/** The env file this run uses: DISAGG_ENV_FILE, else the `envFile` option; relative to `root`. */
export function envFileOf(options: DisaggOptions, env: Env, root: string): string | undefined {
  const file = nonEmpty(env.DISAGG_ENV_FILE) ?? nonEmpty(options.envFile);
  return file === undefined ? undefined : path.resolve(root, file);
}

function sshInput(options: DisaggOptions, get: Lookup, env: Env, homeDir: string): SshInput {
  const o = options.ssh ?? {};
  const port = get('DISAGG_SSH_PORT');
  const knownHosts = get('DISAGG_SSH_KNOWN_HOSTS')?.value.split(':').filter(Boolean);
  return {
    host: get('DISAGG_SSH_HOST')?.value ?? o.host,
    port: port ? wholeNumber(port) : o.port,
    username: get('DISAGG_SSH_USER')?.value ?? o.username,
    privateKeyPath: get('DISAGG_SSH_KEY')?.value ?? o.privateKeyPath,
    // The agent socket belongs to this shell only: an env file cannot carry one.
    agent: nonEmpty(env.SSH_AUTH_SOCK),
    knownHostsPaths: knownHosts ?? (o.knownHostsPath ? [o.knownHostsPath] : undefined),
    proxyJump: get('DISAGG_SSH_PROXY_JUMP')?.value ?? o.proxyJump,
    remoteDir: get('DISAGG_REMOTE_DIR')?.value ?? o.remoteDir,
    sshConfigPath: get('DISAGG_SSH_CONFIG')?.value ?? o.configPath ?? path.join(homeDir, '.ssh', 'config'),
  };
}

function executorSettings(
  kind: ExecutorKind,
  options: DisaggOptions,
  get: Lookup,
  env: Env,
  root: string,
): ExecutorSettings {
  const s = options.slurm ?? {};
  const launcher = get('DISAGG_LAUNCHER');
  const resources = get('DISAGG_SBATCH_RESOURCES');
  const jobDirScripts = get('DISAGG_JOB_DIR_SCRIPTS');
  const scriptDirVar = get('SCRIPT_DIR')?.value;
  const scriptDirFrom = get('DISAGG_SCRIPT_DIR') ?? get('SCRIPT_DIR');
  const rawScriptDir = scriptDirFrom?.value ?? s.scriptDir;
  // On this machine submit.py runs with the control dir as cwd: a relative folder means the project's.
  const scriptDir =
    rawScriptDir === undefined || kind === 'ssh' ? rawScriptDir : path.resolve(root, rawScriptDir);
  const homeDir = nonEmpty(env.HOME) ?? os.homedir();
  const localUser = nonEmpty(env.USER) ?? nonEmpty(env.LOGNAME) ?? safeUserName();
  // A config's script_file is looked for here on this machine (next to the config first).
  const searchDirs = [scriptDirVar, s.scriptDir].filter((d): d is string => d !== undefined);
  return {
    kind,
    partition: get('DISAGG_PARTITION')?.value ?? s.partition,
    account: get('DISAGG_ACCOUNT')?.value ?? s.account,
    launcher: launcher ? oneOf(launcher, LAUNCHERS) : optionOneOf('slurm.launcher', s.launcher, LAUNCHERS),
    jobDirScripts: jobDirScripts ? scriptNames(jobDirScripts.value) : s.jobDirScripts,
    resources: resources
      ? oneOf(resources, RESOURCES)
      : optionOneOf('slurm.resources', s.resources, RESOURCES),
    scriptDir,
    scriptDirSource:
      scriptDirFrom?.label ??
      (s.scriptDir === undefined ? undefined : `option slurm.scriptDir: ${s.scriptDir}`),
    scriptSearchDirs: [...new Set(searchDirs.map((d) => path.resolve(root, d)))],
    remoteScriptDir: kind === 'ssh' ? scriptDir : undefined,
    ssh: sshInput(options, get, env, homeDir),
    localUser,
    homeDir,
    childEnv: { ...env },
  };
}

/** `a.slurm, b.sh` or `a.slurm:b.sh`: names compared with the basename of a config's script_file. */
function scriptNames(list: string): string[] {
  return list
    .split(/[\s,:]+/)
    .map((n) => n.trim())
    .filter((n) => n !== '');
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'root';
  }
}

/**
 * Resolve every setting. Throws SettingsError for an invalid value (naming the variable or option and
 * where it was set) and for an env file that cannot be read.
 */
export function resolveSettings(
  options: DisaggOptions = {},
  env: Env = process.env,
  root: string = process.cwd(),
): ResolvedOptions {
  const envFile = envFileOf(options, env, root);
  const fileVars = envFile ? readEnvFile(envFile, env) : {};
  const get = makeLookup(env, fileVars, envFile);
  const abs = (p: string): string => path.resolve(root, p);

  const executorSource = get('DISAGG_EXECUTOR');
  const executor: ExecutorKind = executorSource
    ? oneOf(executorSource, EXECUTORS)
    : (optionOneOf('executor', options.executor, EXECUTORS) ?? 'local');
  const batch = get('DISAGG_BATCH_SIZE');
  const batchSize = batch ? wholeNumber(batch) : options.maxJobsInFlight;
  // The local executor runs jobs on this machine's cores: unlimited would overload a laptop.
  const maxJobsInFlight = batchSize === undefined ? (executor === 'local' ? 2 : 0) : Math.max(0, batchSize);
  const resume = get('DISAGG_RESUME');
  const testModulesSource = get('DISAGG_TEST_MODULES');
  const strict = get('DISAGG_STRICT');
  const verbose = get('DISAGG_VERBOSE');
  const debug = get('DEBUG_MODE');
  const testList = get('DISAGG_TEST_LIST')?.value ?? options.testList;
  const outputPath = abs(get('OUTPUT_PATH')?.value ?? options.outputPath ?? DEFAULT_OUTPUT_PATH);

  const placeholderVars: Record<string, string> = {};
  for (const name of PLACEHOLDER_VARIABLES) {
    const v = get(name)?.value;
    // Placeholder values that are themselves placeholders (`<partition>`) do not count.
    if (v !== undefined && !v.startsWith('<')) placeholderVars[name] = v;
  }
  // OUTPUT_PATH is ours to know (option or env), so placeholders built from it (container mounts) resolve.
  placeholderVars.OUTPUT_PATH = outputPath;

  const execSettings = executorSettings(executor, options, get, env, root);
  return {
    root,
    configDir: abs(get('DISAGG_CONFIG_DIR')?.value ?? options.configDir ?? DEFAULT_CONFIG_DIR),
    executor,
    outputPath,
    gpuType: get('GPU_TYPE')?.value ?? options.gpuType ?? DEFAULT_GPU_TYPE,
    testList: testList === undefined ? undefined : abs(testList),
    envFile,
    maxJobsInFlight,
    maxWorkers: options.maxWorkers ?? 8,
    testModules: testModulesSource
      ? oneOf(testModulesSource, TEST_MODULES)
      : (optionOneOf('testModules', options.testModules, TEST_MODULES) ?? 'auto'),
    watch: options.watch ?? false,
    resume: resume ? flag(resume) : (options.resume ?? true),
    pollMinMs: options.pollIntervalMs?.min ?? (executor === 'local' ? 250 : 2000),
    pollMaxMs: options.pollIntervalMs?.max ?? (executor === 'local' ? 2000 : 30_000),
    safetyPollMs: safetyPollFrom(get('DISAGG_SAFETY_POLL'), options.safetyPollSec),
    heartbeatMs: heartbeatFrom(get('DISAGG_HEARTBEAT'), options.heartbeat),
    neverStartGraceMs: secondsFrom(
      get('DISAGG_NEVER_START_GRACE'),
      options.neverStartGraceSec,
      'neverStartGraceSec',
      60,
    ),
    pollGiveUpMs: secondsFrom(get('DISAGG_POLL_GIVE_UP'), options.pollGiveUpSec, 'pollGiveUpSec', 600),
    progressToConsole: env.VITEST_VSCODE === 'true',
    strict: strict ? flag(strict) : (options.strict ?? false),
    verbose: verbose ? flag(verbose) : (options.verbose ?? false),
    gates: options.gates ?? [],
    ...(options.slo !== undefined ? { slo: sloFrom(options.slo) } : {}),
    configLimits: limitsFor(maxConfigBytesFrom(get('DISAGG_MAX_CONFIG_BYTES'), options.maxConfigBytes)),
    debug: {
      enabled: debug ? flag(debug) : false,
      jobId: get('DEBUG_JOB_ID')?.value,
    },
    ssh: {
      ...options.ssh,
      host: execSettings.ssh.host,
      port: execSettings.ssh.port,
      username: execSettings.ssh.username,
      privateKeyPath: execSettings.ssh.privateKeyPath,
      knownHostsPath: get('DISAGG_SSH_KNOWN_HOSTS')?.value ?? options.ssh?.knownHostsPath,
      remoteDir: execSettings.ssh.remoteDir,
    },
    placeholderVars,
    executorSettings: execSettings,
  };
}

/** The config dir alone, by the same precedence (env, env file, option, default). */
export function resolveConfigDir(optionDir: string | undefined, env: Env, cwd: string): string {
  return resolveSettings({ configDir: optionDir }, env, cwd).configDir;
}

/** Command-line flags that override settings (the CLI's `--config-dir`, `--executor`, …). */
export interface SettingFlags {
  /** The vitest config file to read disagg() options from (read by the CLI, not here). */
  config?: string;
  configDir?: string;
  outputPath?: string;
  executor?: string;
  strict?: boolean;
}

/**
 * The output path an `--output-path` flag sets: it wins over env, env file and options, and is relative
 * to where the command runs, so it is known without loading the project's config.
 */
export function outputPathFlag(cwd: string, flag: string): string {
  return path.resolve(cwd, flag);
}

/**
 * The environment with command-line flags applied as the variables they stand for: a flag is the most
 * explicit setting, so it wins over env, env file and options with the same precedence code.
 */
export function withFlags(env: Env, flags: SettingFlags, cwd: string): Env {
  const out: Record<string, string | undefined> = { ...env };
  // Flag paths are relative to where the command runs, not to the project root.
  if (flags.configDir !== undefined) out.DISAGG_CONFIG_DIR = path.resolve(cwd, flags.configDir);
  if (flags.outputPath !== undefined) out.OUTPUT_PATH = outputPathFlag(cwd, flags.outputPath);
  if (flags.executor !== undefined) out.DISAGG_EXECUTOR = flags.executor;
  if (flags.strict) out.DISAGG_STRICT = '1';
  return out;
}
