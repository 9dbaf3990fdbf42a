// Renders the submission command for one job: plain `sbatch` with arguments taken from the config's
// `slurm` and `hardware` sections, or the TensorRT-LLM launcher `python3 $SCRIPT_DIR/submit.py`.
// Pure: no I/O, so `disagg dry-run` prints exactly what the executor would run.

import path from 'node:path';
import { ConfigError, SettingsError } from '../errors.js';
import { SIM_SCRIPT_VARIANT_RE, SLURM_ERR_PATTERN, SLURM_OUT_PATTERN } from '../jobdir/files.js';
import { configCount, deploymentGpus } from '../config/gpus.js';
import type { DisaggConfig } from '../types.js';
import type { Launcher, ResourceMode } from '../settings/types.js';
import { shJoin, shq, splitShellWords } from './shell-quote.js';

/** `config`: nodes/tasks from hardware + worker_config (real GPUs); `single`: one task (the simulator). */
export type { Launcher, ResourceMode } from '../settings/types.js';

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
  launcher?: Launcher;
  /** Default: `single` for the simulator script, `config` otherwise. */
  resources?: ResourceMode;
  /** submit.py mode: directory holding submit.py; default `$SCRIPT_DIR`, expanded by the remote shell. */
  scriptDir?: string;
  /** The job runs the built-in simulator (default: guessed from the script name). */
  simulator?: boolean;
  /** Override `slurm.partition` / `slurm.account` (e.g. the local test cluster's partition). */
  partition?: string;
  account?: string;
  /** The write-ahead token, given to the job as `--comment` (the job name stays the config's). */
  comment?: string;
}

export interface RenderedCommand {
  launcher: Launcher;
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
    const submitPy = dir ? path.posix.join(dir, 'submit.py') : '$SCRIPT_DIR/submit.py';
    const argv = ['python3', submitPy, '-c', input.configPath, '--log-dir', input.jobDir];
    const first = dir ? undefined : 'python3 "${SCRIPT_DIR:?SCRIPT_DIR is not set}/submit.py"';
    const commandLine = first ? `${first} ${shJoin(argv.slice(2))}` : formatCommandLine({}, argv);
    return { launcher, argv, env: {}, commandLine };
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
    // --segment only exists in recent SLURM; emit it only when the config asks for it explicitly.
    if (slurm.set_segment === true) argv.push(`--segment=${n.totalNodes}`);
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

/**
 * Which launcher to use: the setting (DISAGG_LAUNCHER, resolved by src/settings), else plain sbatch.
 * submit.py is only meaningful for a real TensorRT-LLM script (e.g. disaggr_torch.slurm), never for the
 * simulator.
 */
export function chooseLauncher(
  config: DisaggConfig,
  option: string | undefined,
  simulator = isSimulatorScript(scriptFileOf(config)),
): Launcher {
  const raw = optString(option);
  if (raw === undefined || raw === 'sbatch') return 'sbatch';
  if (raw !== 'submit.py')
    throw new SettingsError(`DISAGG_LAUNCHER must be sbatch or submit.py, got ${JSON.stringify(raw)}`);
  if (simulator) return 'sbatch';
  return 'submit.py';
}
