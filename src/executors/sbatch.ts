// Renders the submission command for one job: plain `sbatch` with arguments taken from the config's
// `slurm` and `hardware` sections, or the TensorRT-LLM launcher `python3 $SCRIPT_DIR/submit.py`.
// Pure: no I/O, so `disagg dry-run` prints exactly what the executor would run.

import path from 'node:path';
import { ConfigError, SettingsError } from '../errors.js';
import { SIM_SCRIPT_VARIANT_RE, SLURM_ERR_PATTERN, SLURM_OUT_PATTERN } from '../jobdir/files.js';
import { configCount, deploymentGpus } from '../config/gpus.js';
import type { DisaggConfig } from '../types.js';
import type { ResourceMode, SubmitLauncher } from '../settings/types.js';
import { SHIM_TOKEN_VAR } from './sbatch-shim.js';
import { shJoin, shq, splitShellWords } from './shell-quote.js';

/** `config`: nodes/tasks from hardware + worker_config (real GPUs); `single`: one task (the simulator). */
export type { Launcher, ResourceMode, SubmitLauncher } from '../settings/types.js';

/** The script used when a config names none (the original's default). */
export const DEFAULT_SCRIPT_FILE = 'disaggr_torch.slurm';

export interface RenderInput {
  config: DisaggConfig;
  testId: string;
  /** Directory on the submit host where the job runs and writes its logs. */
  jobDir: string;
  /** Used for `--time` when the config has no `slurm.job_time`. */
  timeLimitMs: number;
  /** sbatch mode: the uploaded job script on the submit host. */
  scriptPath: string;
  /** submit.py mode: the uploaded config file passed with `-c`. */
  configPath: string;
  launcher?: SubmitLauncher;
  /** Default: `single` for the simulator script, `config` otherwise. */
  resources?: ResourceMode;
  /** submit.py mode: directory holding submit.py; default `$SCRIPT_DIR`, expanded by the remote shell. */
  scriptDir?: string;
  /** submit.py mode: the folder of our sbatch shim, put first on submit.py's PATH (carries `comment`). */
  shimDir?: string;
  /** The job runs the built-in simulator (default: guessed from the script name). */
  simulator?: boolean;
  /** Override `slurm.partition` / `slurm.account` (e.g. the local test cluster's partition). */
  partition?: string;
  account?: string;
  /** The write-ahead token, given to the job as `--comment` (the job name stays the config's). */
  comment?: string;
}

export interface RenderedCommand {
  launcher: SubmitLauncher;
  /** The argument vector, unquoted (for display and tests). */
  argv: string[];
  /** Environment the command runs with (prefixed as assignments on the command line). */
  env: Record<string, string>;
  /** The exact, fully quoted line given to the shell (run with cwd = jobDir). */
  commandLine: string;
}

export interface NodeCounts {
  gpusPerNode: number;
  ctxWorldSize: number;
  genWorldSize: number;
  ctxNodes: number;
  genNodes: number;
  totalNodes: number;
  totalTasks: number;
}

/** Name of the job script a config asks for (`slurm.script_file`, else `metadata.script_file`). */
export function scriptFileOf(config: DisaggConfig, fallback = DEFAULT_SCRIPT_FILE): string {
  const s = config.slurm?.script_file ?? config.metadata?.script_file;
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : fallback;
}

/** The simulator's job script takes no launcher arguments and needs no GPUs. */
export function isSimulatorScript(scriptFile: string): boolean {
  return SIM_SCRIPT_VARIANT_RE.test(path.basename(scriptFile));
}

/**
 * Nodes as the original's submit.py computes them: per side `ceil(world × servers / gpus_per_node)`,
 * summed; tasks = nodes × gpus_per_node.
 */
export function computeNodeCounts(config: DisaggConfig): NodeCounts {
  const hw = config.hardware ?? {};
  const gpusPerNode = configCount(hw.gpus_per_node, 'hardware.gpus_per_node', 0);
  if (gpusPerNode < 1) {
    throw new ConfigError(
      'hardware.gpus_per_node is required (a positive integer) to compute the number of nodes',
    );
  }
  const { ctxWorldSize, genWorldSize, ctxGpus, genGpus } = deploymentGpus(config);
  const ctxNodes = Math.ceil(ctxGpus / gpusPerNode);
  const genNodes = Math.ceil(genGpus / gpusPerNode);
  const totalNodes = Math.max(1, ctxNodes + genNodes);
  return {
    gpusPerNode,
    ctxWorldSize,
    genWorldSize,
    ctxNodes,
    genNodes,
    totalNodes,
    totalTasks: totalNodes * gpusPerNode,
  };
}

const TIME_FORMATS = [
  /^\d+$/, // minutes
  /^\d+:\d{1,2}$/, // minutes:seconds
  /^\d+:\d{1,2}:\d{1,2}$/, // hours:minutes:seconds
  /^\d+-\d+$/, // days-hours
  /^\d+-\d+:\d{1,2}$/,
  /^\d+-\d+:\d{1,2}:\d{1,2}$/,
];

/** `--time` value: `slurm.job_time` when set, else the spec's limit rounded up to whole minutes. */
export function slurmTime(config: DisaggConfig, timeLimitMs: number): string {
  const jt = config.slurm?.job_time;
  if (jt !== undefined && jt !== null && String(jt).trim() !== '') {
    const s = String(jt).trim();
    if (!TIME_FORMATS.some((re) => re.test(s)) && !/^(UNLIMITED|INFINITE)$/i.test(s)) {
      throw new ConfigError(
        `slurm.job_time ${JSON.stringify(s)} is not a SLURM time (e.g. 02:00:00 or 1-00:00:00)`,
      );
    }
    return s;
  }
  // SLURM limits have minute granularity; round up so the job is never killed before our own limit.
  const minutes = Math.max(1, Math.ceil(timeLimitMs / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const hhmm = `${String(hours).padStart(2, '0')}:${String(mins).padStart(2, '0')}:00`;
  return days > 0 ? `${days}-${hhmm}` : hhmm;
}

/** A value still holding a `<placeholder>` would reach sbatch as e.g. `--partition=<partition>`. */
function checkPlaceholder(value: string, what: string): string {
  if (/^<[^<>]*>$/.test(value.trim())) {
    throw new ConfigError(
      `${what} is still the placeholder ${value}: set it in the config or the environment`,
    );
  }
  return value;
}

function optString(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

/** Job name: `slurm.job_name`, else a name derived from the test id. */
/**
 * A literal path inside sbatch's --output/--error patterns: sbatch expands `%x`, `%j`, … there, so a
 * config named `n%x%j.yaml` would write its logs elsewhere; `%%` is sbatch's literal `%`.
 */
export function filenamePatternLiteral(p: string): string {
  return p.replaceAll('%', '%%');
}

export function jobNameOf(config: DisaggConfig, testId: string): string {
  return optString(config.slurm?.job_name) ?? `disagg-${testId}`.slice(0, 200);
}

function formatCommandLine(env: Record<string, string>, argv: string[], rawFirst?: string): string {
  const assigns = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`);
  const words = rawFirst === undefined ? shJoin(argv) : [rawFirst, shJoin(argv.slice(1))].join(' ');
  return [...assigns, words].join(' ').trim();
}

/** Render the command that submits one job. Throws with a clear message on an unusable config. */
export function renderSubmitCommand(input: RenderInput): RenderedCommand {
  const { config } = input;
  const launcher = input.launcher ?? 'sbatch';
  const script = scriptFileOf(config);
  const simulator = input.simulator ?? isSimulatorScript(script);

  if (launcher === 'submit.py') {
    if (simulator) {
      throw new ConfigError(
        `launcher submit.py cannot run the simulator script ${script}; use the sbatch launcher`,
      );
    }
    // $SCRIPT_DIR comes from the submit host's environment, not from the YAML, so it is expanded there.
    const dir = input.scriptDir;
    const submitPy = submitPyPath(dir);
    const argv = ['python3', submitPy, '-c', input.configPath, '--log-dir', input.jobDir];
    const first = dir ? undefined : 'python3 "${SCRIPT_DIR:?SCRIPT_DIR is not set}/submit.py"';
    const words = first ? `${first} ${shJoin(argv.slice(2))}` : shJoin(argv);
    // submit.py runs sbatch itself: the shim first on its PATH adds the token; "$PATH" is the submit
    // host's, so it is left for that shell to expand.
    const env: Record<string, string> = {};
    const assigns: string[] = [];
    if (input.shimDir) {
      env.PATH = `${input.shimDir}:$PATH`;
      assigns.push(`PATH=${shq(input.shimDir)}:"$PATH"`);
    }
    if (input.comment) {
      env[SHIM_TOKEN_VAR] = input.comment;
      assigns.push(`${SHIM_TOKEN_VAR}=${shq(input.comment)}`);
    }
    return { launcher, argv, env, commandLine: [...assigns, words].join(' ') };
  }

  const resources = input.resources ?? (simulator ? 'single' : 'config');
  const slurm = config.slurm ?? {};
  const argv: string[] = ['sbatch', '--parsable'];
  const partition = optString(input.partition) ?? optString(slurm.partition);
  if (partition) argv.push(`--partition=${checkPlaceholder(partition, 'slurm.partition')}`);
  const account = optString(input.account) ?? optString(slurm.account);
  if (account) argv.push(`--account=${checkPlaceholder(account, 'slurm.account')}`);
  argv.push(`--time=${slurmTime(config, input.timeLimitMs)}`);
  argv.push(`--job-name=${jobNameOf(config, input.testId)}`);
  if (input.comment) argv.push(`--comment=${input.comment}`);
  if (resources === 'single') {
    argv.push('--nodes=1', '--ntasks=1');
  } else {
    const n = computeNodeCounts(config);
    argv.push(`--nodes=${n.totalNodes}`, `--ntasks=${n.totalTasks}`, `--ntasks-per-node=${n.gpusPerNode}`);
    // On by default as in upstream submit.py (`setdefault('set_segment', True)`); `set_segment: false`
    // turns it off. The simulator's `single` jobs never get it: SLURM before 24.11 (the lab runs 22.05)
    // rejects the unknown option, and one task has no segment to keep together.
    if (slurm.set_segment !== false) argv.push(`--segment=${n.totalNodes}`);
  }
  // A requeued job reruns in the same job dir under the same id, rewriting the logs a test may be
  // reading; without requeue a node failure ends the job as NODE_FAIL, which the test reports.
  argv.push(slurm.requeue === true ? '--requeue' : '--no-requeue');
  argv.push(
    `--chdir=${input.jobDir}`,
    `--output=${path.posix.join(filenamePatternLiteral(input.jobDir), SLURM_OUT_PATTERN)}`,
    `--error=${path.posix.join(filenamePatternLiteral(input.jobDir), SLURM_ERR_PATTERN)}`,
  );
  const extra = optString(slurm.extra_args);
  if (extra) argv.push(...splitShellWords(extra));
  argv.push(input.scriptPath);
  // sbatch exports the submitting environment by default, so the job script finds its dir here.
  const env = { DISAGG_JOB_DIR: input.jobDir };
  return { launcher, argv, env, commandLine: formatCommandLine(env, argv) };
}

/** Job id from sbatch's output: `--parsable` prints `<id>` or `<id>;<cluster>`, else `Submitted batch job N`. */
export function parseSubmitOutput(stdout: string): string | undefined {
  const m = /Submitted batch job (\d+)/.exec(stdout);
  if (m) return m[1];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    const p = /^(\d+)(;\S*)?$/.exec(t);
    if (p) return p[1];
  }
  return undefined;
}

/** submit.py in `dir`, or in `$SCRIPT_DIR` as the submit host's shell expands it. */
export function submitPyPath(dir: string | undefined): string {
  return dir ? path.posix.join(dir, 'submit.py') : '$SCRIPT_DIR/submit.py';
}

export interface LauncherContext {
  /** The job runs the built-in simulator (default: guessed from the script name). */
  simulator?: boolean;
  /** Script names declared to read their config from the job dir (`slurm.jobDirScripts`). */
  jobDirScripts?: readonly string[];
}

/**
 * Whether plain sbatch can start the config's script: the simulator's and the declared job-dir scripts
 * read the job dir; any other (TensorRT-LLM's disaggr_torch.slurm above all) takes its ~30 arguments
 * from submit.py and would start with none.
 */
export function startsWithoutArguments(config: DisaggConfig, context: LauncherContext = {}): boolean {
  const script = scriptFileOf(config);
  if (context.simulator ?? isSimulatorScript(script)) return true;
  return (context.jobDirScripts ?? []).includes(path.basename(script));
}

/**
 * The launcher for one config: the setting (DISAGG_LAUNCHER / `slurm.launcher`, resolved by
 * src/settings), `auto` when unset. `auto` sends a script that starts without arguments to sbatch and
 * any other to submit.py, as TensorRT-LLM launches it. An explicit `sbatch` for a script that needs
 * arguments is refused (it would start with none); an explicit `submit.py` is honoured for real scripts
 * and falls back to sbatch for the simulator, which submit.py cannot start (one setting for a mixed suite).
 */
export function chooseLauncher(
  config: DisaggConfig,
  option: string | undefined,
  context: LauncherContext = {},
): SubmitLauncher {
  const raw = optString(option) ?? 'auto';
  if (raw !== 'auto' && raw !== 'sbatch' && raw !== 'submit.py')
    throw new SettingsError(
      `DISAGG_LAUNCHER (slurm.launcher) must be auto, sbatch or submit.py, got ${JSON.stringify(raw)}`,
    );
  const plain = startsWithoutArguments(config, context);
  const simulator = context.simulator ?? isSimulatorScript(scriptFileOf(config));
  if (raw === 'submit.py') return simulator ? 'sbatch' : 'submit.py';
  if (raw === 'auto') return plain ? 'sbatch' : 'submit.py';
  if (!plain) throw new SettingsError(sbatchNeedsArguments(scriptFileOf(config)));
  return 'sbatch';
}

/** Why `launcher: sbatch` is refused for a script that needs arguments, and the ways out. */
export function sbatchNeedsArguments(script: string): string {
  const name = path.basename(script);
  return (
    `launcher sbatch cannot start ${script}: it is neither the simulator's script nor listed in ` +
    `slurm.jobDirScripts (DISAGG_JOB_DIR_SCRIPTS), so it is taken to be a TensorRT-LLM launcher script, ` +
    `which needs the ~30 arguments submit.py passes it (--num-ctx-servers, --concurrency-list, ` +
    `--full-logdir, …); sbatch would start it with none. Use launcher auto (the default) or submit.py ` +
    `with SCRIPT_DIR naming submit.py's folder, or list ${name} in slurm.jobDirScripts / ` +
    `DISAGG_JOB_DIR_SCRIPTS if it reads its config from the job dir.`
  );
}

/** Why submit.py cannot run: no folder set, or no submit.py in it. */
export function submitPyMissing(
  script: string,
  looked: string | undefined,
  source: string | undefined,
): string {
  const where =
    looked === undefined
      ? 'SCRIPT_DIR (or DISAGG_SCRIPT_DIR, or the slurm.scriptDir option) is not set'
      : `no submit.py at ${looked} (the folder comes from ${source ?? 'SCRIPT_DIR / DISAGG_SCRIPT_DIR'})`;
  return (
    `${script} is launched by TensorRT-LLM's submit.py (launcher auto/submit.py), but ${where}. ` +
    `Fix: set SCRIPT_DIR (or DISAGG_SCRIPT_DIR) in the environment or the DISAGG_ENV_FILE to the folder ` +
    `holding submit.py (TensorRT-LLM's examples/disaggregated/slurm/benchmark); or, if ${path.basename(script)} ` +
    `reads its config from the job dir, list it in slurm.jobDirScripts / DISAGG_JOB_DIR_SCRIPTS to submit it with sbatch.`
  );
}
