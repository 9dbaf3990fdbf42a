// Resolves the simulator's view of a DisaggConfig: every knob with its default in one place, so the
// workers, router, benchmark client and evaluator never read raw YAML themselves.
import { parseConcurrencyList } from '../config/checks.js';
import type { DisaggConfig } from '../types.js';

export interface CrashFault {
  worker: 'ctx' | 'gen';
  index: number;
  /** Simulated seconds after the worker is ready. */
  afterS: number;
  message: string;
}

export interface FaultSettings {
  crash?: CrashFault;
  http500Rate: number;
  /** Simulated seconds after the router is ready when it stops answering; undefined = no hang. */
  hangAfterS?: number;
  exitCode?: number;
}

export interface CtxWorkerSettings {
  tp: number;
  maxBatchSize: number;
  maxNumTokens: number;
  printIterLog: boolean;
  /** Every simulated duration is multiplied by this (1 = normal speed). */
  slowdown: number;
  /** enable_attention_dp: tp ranks with a batch each (max_batch_size and max_num_tokens per rank). */
  attentionDp: boolean;
}

export interface GenWorkerSettings {
  tp: number;
  maxBatchSize: number;
  mtpLayers: number;
  streamInterval: number;
  printIterLog: boolean;
  /** Every simulated duration is multiplied by this (1 = normal speed). */
  slowdown: number;
  /** enable_attention_dp: tp ranks with max_batch_size sequences each; an iteration waits for the fullest. */
  attentionDp: boolean;
}

export interface AccuracyTaskSettings {
  task: string;
  model: string;
  modelArgsExtra: string;
  numConcurrent: number;
  maxRetries: number;
  maxGenToks: number;
}

export interface BenchSettings {
  /** Already multiplied by num_gen_servers, like run_benchmark.sh does. */
  concurrencies: number[];
  multiRound: number;
  inputLength: number;
  outputLength: number;
  /** Length spread: lengths are drawn from [ratio·L, L]; 1 = fixed lengths. */
  ratio: number;
  streaming: boolean;
  useNvSa: boolean;
}

export interface SimSettings {
  timeScale: number;
  /** Relative noise of service times (noise.ts); 0 = reruns identical. */
  noise: number;
  accuracy: number;
  styles: { strict: number; flexible: number; none: number };
  numQuestions: number;
  seed: number;
  faults: FaultSettings;
  numCtx: number;
  numGen: number;
  ctx: CtxWorkerSettings;
  gen: GenWorkerSettings;
  bench: BenchSettings;
  accuracyEnabled: boolean;
  tasks: AccuracyTaskSettings[];
  modelName: string;
  modelPath: string;
  /** Longest prompt + max_tokens a request may ask for: `worker_config.gen.max_seq_len`, else the default. */
  contextLength: number;
}

export const SIM_DEFAULTS = {
  timeScale: 0.05,
  /** About the run-to-run spread of a real deployment's throughput. */
  noise: 0.01,
  accuracy: 0.85,
  styles: { strict: 0.9, flexible: 0.1, none: 0 },
  numQuestions: 250,
  seed: 1234,
  crashAfterS: 5,
  crashMessage: 'mpi4py.MPI.Exception: MPI_ERR_OTHER: known error not in list',
  numServers: 1,
  tp: 1,
  ctxMaxBatchSize: 8,
  ctxMaxNumTokens: 8192,
  genMaxBatchSize: 256,
  streamInterval: 1,
  multiRound: 8,
  inputLength: 1024,
  outputLength: 1024,
  concurrencyList: [1],
  numConcurrent: 1,
  maxRetries: 3,
  maxGenToks: 256,
  /**
   * Context length when the config sets no `worker_config.gen.max_seq_len`: TensorRT-LLM then takes the
   * model's own (128k–256k for today's large models), so upstream's 128k-input configs must fit.
   */
  contextLength: 262_144,
} as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, dflt: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return dflt;
}

function posInt(v: unknown, dflt: number): number {
  const n = Math.floor(num(v, dflt));
  return n >= 1 ? n : dflt;
}

function bool(v: unknown, dflt: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return dflt;
}

/** `concurrency_list` as the config layer reads it (string, number or list); default [1]. */
function concurrencies(v: unknown): number[] {
  const list = parseConcurrencyList(v).filter((x) => Number.isInteger(x) && x >= 1);
  return list.length > 0 ? list : [...SIM_DEFAULTS.concurrencyList];
}

/** `k=v,k=v` → map (lm-eval model_args syntax). */
export function parseModelArgs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) m.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return m;
}

function taskSettings(task: string, model: unknown, extra: unknown): AccuracyTaskSettings {
  const modelArgsExtra = typeof extra === 'string' ? extra : '';
  const args = parseModelArgs(modelArgsExtra);
  return {
    task,
    model: typeof model === 'string' && model !== '' ? model : 'local-completions',
    modelArgsExtra,
    numConcurrent: posInt(args.get('num_concurrent'), SIM_DEFAULTS.numConcurrent),
    maxRetries: Math.max(0, Math.floor(num(args.get('max_retries'), SIM_DEFAULTS.maxRetries))),
    maxGenToks: posInt(args.get('max_gen_toks'), SIM_DEFAULTS.maxGenToks),
  };
}

/**
 * Both shapes seen in real configs: `tasks: {gsm8k: {model, model_args_extra}}` (submit.py) and the older
 * `tasks: gsm8k` (comma-separated allowed) with `model` / `model_args_extra` next to it.
 */
export function parseAccuracyTasks(acc: Obj | undefined): AccuracyTaskSettings[] {
  if (!acc) return [];
  const tasks = acc.tasks;
  if (isObj(tasks)) {
    return Object.entries(tasks).map(([name, t]) =>
      isObj(t)
        ? taskSettings(name, t.model ?? acc.model, t.model_args_extra ?? acc.model_args_extra)
        : taskSettings(name, acc.model, acc.model_args_extra),
    );
  }
  const names =
    typeof tasks === 'string'
      ? tasks.split(/[\s,]+/).filter((s) => s !== '')
      : Array.isArray(tasks)
        ? tasks.map(String)
        : ['gsm8k'];
  return names.map((n) => taskSettings(n, acc.model, acc.model_args_extra));
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Env var that slows the simulated serving stack by a factor, overriding `simulator.slowdown`. */
export const SLOWDOWN_ENV = 'DISAGG_SIM_SLOWDOWN';

/**
 * The slowdown factor: `DISAGG_SIM_SLOWDOWN` if set, else `simulator.slowdown`, else 1. A factor must be
 * > 0; anything else is an error (a silently ignored knob would make a regression test pass).
 */
export function resolveSlowdown(cfg: DisaggConfig, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[SLOWDOWN_ENV];
  const raw: unknown = fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv : cfg.simulator?.slowdown;
  if (raw === undefined) return 1;
  const n = num(raw, NaN);
  if (!(n > 0)) {
    const where = fromEnv !== undefined && fromEnv.trim() !== '' ? SLOWDOWN_ENV : 'simulator.slowdown';
    throw new Error(`${where}: ${JSON.stringify(raw)} is not a factor > 0 (1.15 = 15 % slower)`);
  }
  return n;
}

/** Env var that sets the service-time noise, overriding `simulator.noise` (0 = reruns identical). */
export const NOISE_ENV = 'DISAGG_SIM_NOISE';

/** The noise: `DISAGG_SIM_NOISE` if set, else `simulator.noise`, else the default; a number in [0, 0.5]. */
export function resolveNoise(cfg: DisaggConfig, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[NOISE_ENV];
  const set = fromEnv !== undefined && fromEnv.trim() !== '';
  const raw: unknown = set ? fromEnv : cfg.simulator?.noise;
  if (raw === undefined) return SIM_DEFAULTS.noise;
  const n = num(raw, NaN);
  if (!(n >= 0 && n <= 0.5)) {
    throw new Error(
      `${set ? NOISE_ENV : 'simulator.noise'}: ${JSON.stringify(raw)} is not a relative noise in [0, 0.5] (0.01 = 1 %)`,
    );
  }
  return n;
}

export function resolveSettings(cfg: DisaggConfig, processEnv: NodeJS.ProcessEnv = process.env): SimSettings {
  const sim = cfg.simulator ?? {};
  const slowdown = resolveSlowdown(cfg, processEnv);
  const noise = resolveNoise(cfg, processEnv);
  const hw = cfg.hardware ?? {};
  const b = cfg.benchmark ?? {};
  const wc = cfg.worker_config ?? {};
  const ctxCfg: Obj = isObj(wc.ctx) ? wc.ctx : {};
  const genCfg: Obj = isObj(wc.gen) ? wc.gen : {};
  const spec: Obj = isObj(genCfg.speculative_config) ? genCfg.speculative_config : {};
  const numCtx = posInt(hw.num_ctx_servers, SIM_DEFAULTS.numServers);
  const numGen = posInt(hw.num_gen_servers, SIM_DEFAULTS.numServers);

  const st = sim.answer_styles ?? {};
  let styles = {
    strict: Math.max(0, num(st.strict, sim.answer_styles ? 0 : SIM_DEFAULTS.styles.strict)),
    flexible: Math.max(0, num(st.flexible, sim.answer_styles ? 0 : SIM_DEFAULTS.styles.flexible)),
    none: Math.max(0, num(st.none, sim.answer_styles ? 0 : SIM_DEFAULTS.styles.none)),
  };
  const total = styles.strict + styles.flexible + styles.none;
  styles =
    total > 0
      ? { strict: styles.strict / total, flexible: styles.flexible / total, none: styles.none / total }
      : { ...SIM_DEFAULTS.styles };

  const f = sim.faults ?? {};
  const faults: FaultSettings = { http500Rate: clamp01(num(f.http_500_rate, 0)) };
  if (f.crash) {
    faults.crash = {
      worker: f.crash.worker === 'ctx' ? 'ctx' : 'gen',
      index: Math.max(0, Math.floor(num(f.crash.index, 0))),
      afterS: Math.max(0, num(f.crash.after_s, SIM_DEFAULTS.crashAfterS)),
      message: f.crash.message ?? SIM_DEFAULTS.crashMessage,
    };
  }
  if (f.hang === true) faults.hangAfterS = 0;
  else if (isObj(f.hang)) faults.hangAfterS = Math.max(0, num(f.hang.after_s, 0));
  if (typeof f.exit_code === 'number') faults.exitCode = Math.floor(f.exit_code);

  const acc = isObj(cfg.accuracy) ? cfg.accuracy : undefined;
  const env = cfg.environment ?? {};
  const meta = cfg.metadata ?? {};
  const ratio = num(b.benchmark_ratio, 1);
  const timeScale = num(sim.time_scale, SIM_DEFAULTS.timeScale);

  return {
    timeScale: timeScale > 0 ? timeScale : SIM_DEFAULTS.timeScale,
    noise,
    accuracy: clamp01(num(sim.accuracy, SIM_DEFAULTS.accuracy)),
    styles,
    numQuestions: posInt(sim.num_questions, SIM_DEFAULTS.numQuestions),
    seed: Math.floor(num(sim.seed, SIM_DEFAULTS.seed)),
    faults,
    numCtx,
    numGen,
    ctx: {
      tp: posInt(ctxCfg.tensor_parallel_size, SIM_DEFAULTS.tp),
      maxBatchSize: posInt(ctxCfg.max_batch_size, SIM_DEFAULTS.ctxMaxBatchSize),
      maxNumTokens: posInt(ctxCfg.max_num_tokens, SIM_DEFAULTS.ctxMaxNumTokens),
      printIterLog: bool(ctxCfg.print_iter_log, false),
      slowdown,
      attentionDp: bool(ctxCfg.enable_attention_dp, false),
    },
    gen: {
      tp: posInt(genCfg.tensor_parallel_size, SIM_DEFAULTS.tp),
      maxBatchSize: posInt(genCfg.max_batch_size, SIM_DEFAULTS.genMaxBatchSize),
      mtpLayers: Math.max(0, Math.floor(num(spec.num_nextn_predict_layers, 0))),
      streamInterval: posInt(genCfg.stream_interval, SIM_DEFAULTS.streamInterval),
      printIterLog: bool(genCfg.print_iter_log, false),
      slowdown,
      attentionDp: bool(genCfg.enable_attention_dp, false),
    },
    bench: {
      concurrencies: concurrencies(b.concurrency_list).map((c) => c * numGen),
      multiRound: posInt(b.multi_round, SIM_DEFAULTS.multiRound),
      inputLength: posInt(b.input_length, SIM_DEFAULTS.inputLength),
      outputLength: posInt(b.output_length, SIM_DEFAULTS.outputLength),
      ratio: ratio > 0 && ratio <= 1 ? ratio : 1,
      streaming: bool(b.streaming, true),
      useNvSa: bool(b.use_nv_sa_benchmark, false),
    },
    accuracyEnabled: acc !== undefined && bool(acc.enable_accuracy_test, false),
    tasks: parseAccuracyTasks(acc),
    modelName: typeof meta.model_name === 'string' ? meta.model_name : 'sim-model',
    modelPath:
      typeof env.model_path === 'string' && !env.model_path.startsWith('<')
        ? env.model_path
        : typeof meta.model_dir_name === 'string'
          ? meta.model_dir_name
          : 'sim-model',
    contextLength: posInt(genCfg.max_seq_len, SIM_DEFAULTS.contextLength),
  };
}
