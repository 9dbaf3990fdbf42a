// Placeholders such as `<partition>` filled from environment variables (the original's names) or an
// env file. Unlike the original, an explicit YAML value is never replaced: only placeholders are.
import path from 'node:path';
import type { DisaggConfig, LoadedConfig, UnresolvedPlaceholder } from '../types.js';
import { formatPath } from './problems.js';
import { ConfigError } from '../errors.js';

export type { UnresolvedPlaceholder } from '../types.js';

export interface PlaceholderResult {
  /** A deep copy of the config with every resolvable placeholder filled in. */
  config: DisaggConfig;
  /** Variables used (variable → value): part of the config hash. */
  resolvedVars: Record<string, string>;
  unresolved: UnresolvedPlaceholder[];
}

/** A whole-value placeholder such as `<partition>` or `<You slurm partition>`. */
const WHOLE = /^<[^<>\n]+>$/;

/** Placeholder token → variable, for tokens anywhere in a string (e.g. `<repo_path>/tests/x.yaml`). */
export const TOKEN_VARIABLES: Readonly<Record<string, string>> = {
  partition: 'SLURM_PARTITION',
  account: 'SLURM_ACCOUNT',
  job_name: 'SLURM_JOB_NAME',
  container_image: 'CONTAINER_IMAGE',
  model_dir: 'MODEL_DIR',
  dataset_dir: 'DATASET_DIR',
  script_dir: 'SCRIPT_DIR',
  work_dir: 'WORK_DIR',
  output_path: 'OUTPUT_PATH',
  hf_home_path: 'HF_HOME_DIR',
  hf_home: 'HF_HOME_DIR',
  hf_home_dir: 'HF_HOME_DIR',
  repo_path: 'REPO_DIR',
  repo_dir: 'REPO_DIR',
  trtllm_repo: 'REPO_DIR',
  trtllm_wheel_path: 'TRTLLM_WHEEL_PATH',
};

type Vars = Readonly<Record<string, string | undefined>>;
type Lookup = (name: string) => string | undefined;

interface FieldRule {
  /** Variables this field needs (all of them). */
  needs: string[];
  /** `get` reads a needed variable (recorded for the hash); `lookup` an optional one. */
  build(get: (name: string) => string, config: DisaggConfig, lookup: Lookup): string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const joinDir = (dir: string, rel: string): string => (rel ? path.posix.join(dir, rel) : dir);

/** The original loader's field → value table (framework reference §2.8), applied to placeholders only. */
export const FIELD_RULES: Readonly<Record<string, FieldRule>> = {
  'slurm.partition': { needs: ['SLURM_PARTITION'], build: (g) => g('SLURM_PARTITION') },
  'slurm.account': { needs: ['SLURM_ACCOUNT'], build: (g) => g('SLURM_ACCOUNT') },
  'slurm.job_name': { needs: ['SLURM_JOB_NAME'], build: (g) => g('SLURM_JOB_NAME') },
  'slurm.script_file': {
    needs: ['SCRIPT_DIR'],
    build: (g, c) => joinDir(g('SCRIPT_DIR'), str(c.metadata?.script_file) || 'disaggr_torch.slurm'),
  },
  'environment.container_image': { needs: ['CONTAINER_IMAGE'], build: (g) => g('CONTAINER_IMAGE') },
  'environment.container_mount': {
    needs: ['WORK_DIR', 'SCRIPT_DIR', 'MODEL_DIR', 'OUTPUT_PATH'],
    build: containerMount,
  },
  'environment.model_path': {
    needs: ['MODEL_DIR'],
    build: (g, c) => joinDir(g('MODEL_DIR'), str(c.metadata?.model_dir_name)),
  },
  'environment.trtllm_repo': { needs: ['REPO_DIR'], build: (g) => g('REPO_DIR') },
  'environment.trtllm_wheel_path': { needs: ['TRTLLM_WHEEL_PATH'], build: (g) => g('TRTLLM_WHEEL_PATH') },
  // The launcher's work_dir is the directory holding its scripts: the original sets $SCRIPT_DIR here.
  'environment.work_dir': { needs: ['SCRIPT_DIR'], build: (g) => g('SCRIPT_DIR') },
  'environment.log_dir': { needs: ['OUTPUT_PATH'], build: (g) => g('OUTPUT_PATH') },
  'environment.dataset_file': {
    needs: ['DATASET_DIR'],
    build: (g, c) => joinDir(g('DATASET_DIR'), str(c.metadata?.dataset_file)),
  },
  'benchmark.dataset_file': {
    needs: ['DATASET_DIR'],
    build: (g, c) => joinDir(g('DATASET_DIR'), str(c.metadata?.dataset_file)),
  },
  'accuracy.env_var.HF_HOME': { needs: ['HF_HOME_DIR'], build: (g) => g('HF_HOME_DIR') },
};

/** Every variable a placeholder can be filled from (the settings core looks these up). */
export const PLACEHOLDER_VARIABLES: readonly string[] = [
  ...new Set([
    ...Object.values(TOKEN_VARIABLES),
    ...Object.values(FIELD_RULES).flatMap((r) => r.needs),
    // optional parts of the container mounts
    'DATASET_DIR',
    'REPO_DIR',
    'TRTLLM_WHEEL_PATH',
  ]),
];

/** `src:src` mounts for the launcher: same paths inside the container as outside. */
function containerMount(get: (name: string) => string, config: DisaggConfig, lookup: Lookup): string {
  const dirs = ['WORK_DIR', 'SCRIPT_DIR', 'MODEL_DIR', 'OUTPUT_PATH'].map(get);
  for (const opt of ['DATASET_DIR', 'REPO_DIR']) {
    const v = lookup(opt);
    if (v) dirs.push(v);
  }
  const wheel = lookup('TRTLLM_WHEEL_PATH');
  if (wheel) dirs.push(path.posix.dirname(wheel));
  const mounts = [...new Set(dirs)].map((d) => `${d}:${d}`);
  // kimi-k2 needs a large /dev/shm (the original adds this mount for it).
  if (str(config.metadata?.model_name).includes('kimi-k2')) mounts.push('tmpfs:/dev/shm:size=640G');
  return mounts.join(',');
}

/** Values that are unset or still placeholders themselves do not count. */
function usable(v: string | undefined): v is string {
  return v !== undefined && v !== '' && !v.startsWith('<');
}

/**
 * Deep copy of plain data that keeps shared references shared (YAML aliases become one object) and
 * never copies strings: structuredClone writes a string once per reference, so one big aliased string
 * multiplied memory by its alias count.
 */
function clone<T>(v: T): T {
  const copies = new Map<object, unknown>();
  const copy = (x: unknown): unknown => {
    if (x === null || typeof x !== 'object') return x;
    const done = copies.get(x);
    if (done !== undefined) return done;
    if (Array.isArray(x)) {
      const out: unknown[] = [];
      copies.set(x, out);
      for (const item of x) out.push(copy(item));
      return out;
    }
    if (Object.getPrototypeOf(x) !== Object.prototype && Object.getPrototypeOf(x) !== null) {
      // Dates, Maps, binary (custom YAML tags): rare and small, structuredClone handles them.
      const out = structuredClone(x);
      copies.set(x, out);
      return out;
    }
    const out: Record<string, unknown> = {};
    copies.set(x, out);
    for (const [k, val] of Object.entries(x)) out[k] = copy(val);
    return out;
  };
  return copy(v) as T;
}

/**
 * Fill placeholders from `vars` (the settings core merges env and env file into them). Scans every
 * string outside `worker_config.ctx/gen` (those go to TensorRT-LLM unchanged). Never throws.
 */
export function resolvePlaceholders(config: DisaggConfig, vars: Vars): PlaceholderResult {
  return resolveWith(config, vars);
}

function resolveWith(config: DisaggConfig, vars: Vars): PlaceholderResult {
  const out = clone(config);
  const resolvedVars: Record<string, string> = {};
  const unresolved: UnresolvedPlaceholder[] = [];
  const lookup: Lookup = (name) => (usable(vars[name]) ? vars[name] : undefined);
  const use = (name: string): string => {
    const v = lookup(name) as string;
    resolvedVars[name] = v;
    return v;
  };

  const visit = (node: unknown, segs: Array<string | number>): unknown => {
    if (segs.length === 2 && segs[0] === 'worker_config' && (segs[1] === 'ctx' || segs[1] === 'gen'))
      return node;
    if (Array.isArray(node)) return node.map((v, i) => visit(v, [...segs, i]));
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = visit(o[k], [...segs, k]);
      return o;
    }
    if (typeof node !== 'string' || !node.includes('<')) return node;
    const dotted = segs.join('.');
    const p = formatPath(segs);
    const rule = FIELD_RULES[dotted];
    if (rule && WHOLE.test(node.trim())) {
      const missing = rule.needs.filter((n) => !lookup(n));
      if (missing.length > 0) {
        unresolved.push({ path: p, placeholder: node, variable: missing.join(', ') });
        return node;
      }
      return rule.build(use, out, (n) => {
        const v = lookup(n);
        if (v !== undefined) resolvedVars[n] = v;
        return v;
      });
    }
    const whole = WHOLE.exec(node.trim());
    if (whole) {
      const variable = TOKEN_VARIABLES[node.trim().slice(1, -1).toLowerCase()];
      if (variable && lookup(variable)) return use(variable);
      unresolved.push({ path: p, placeholder: node.trim(), variable: variable ?? '' });
      return node;
    }
    // Known tokens inside longer strings only: `<...>` can be legitimate text (regex named groups).
    return node.replace(/<([A-Za-z_]+)>/g, (m, name: string) => {
      const variable = TOKEN_VARIABLES[name.toLowerCase()];
      if (!variable) return m;
      if (lookup(variable)) return use(variable);
      unresolved.push({ path: p, placeholder: m, variable });
      return m;
    });
  };
  const resolved = visit(out, []) as DisaggConfig;
  return { config: resolved, resolvedVars, unresolved };
}

// ------------------------------------------------------------------------------------------------
// Submission guard
// ------------------------------------------------------------------------------------------------

/** Placeholders still present in an (already resolved) config. */
export function findUnresolved(config: DisaggConfig): UnresolvedPlaceholder[] {
  return resolveWith(config, {}).unresolved;
}

/** Throw unless every placeholder is filled: called right before a job is submitted. */
export function assertSubmittable(loaded: Pick<LoadedConfig, 'config' | 'relFile' | 'testId'>): void {
  const left = findUnresolved(loaded.config);
  if (left.length === 0) return;
  const lines = left.map((u) =>
    u.variable
      ? `  ${u.path} is still the placeholder "${u.placeholder}": set ${u.variable} (in the environment or in the DISAGG_ENV_FILE file)`
      : `  ${u.path} is still the placeholder "${u.placeholder}": no environment variable fills it; write the real value in the YAML`,
  );
  throw new ConfigError(
    `Cannot submit ${loaded.testId} (${loaded.relFile}): ${left.length} unresolved placeholder(s)\n${lines.join('\n')}`,
  );
}
