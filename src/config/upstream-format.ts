// Old configs keep their lengths in `sequence:` and the dataset under `environment:`; newer submit.py
// reads only `benchmark.input_length/output_length/dataset_file` and fails without them. The config
// uploaded with a job is therefore written in the newer format.
import type { DisaggConfig } from '../types.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

export interface UpstreamFormat {
  /** The config as newer submit.py reads it (the input when nothing had to move). */
  config: DisaggConfig;
  /** One `old → new` line per moved key; empty when the config already was in the newer format. */
  moved: string[];
}

/** Keys of `sequence:` and where newer submit.py reads them. */
const SEQUENCE_KEYS = ['input_length', 'output_length'] as const;

/**
 * The config with old-format keys moved where newer submit.py reads them: `sequence.input_length` and
 * `sequence.output_length` → `benchmark.*`, `environment.dataset_file` → `benchmark.dataset_file`. A value
 * already under `benchmark` wins. `sequence` is dropped once nothing else is left in it (submit.py never
 * reads it); `environment.dataset_file` stays (ignored there, and older scripts may still read it).
 * Pure: the input is not changed.
 */
export function toUpstreamFormat(config: DisaggConfig): UpstreamFormat {
  const seq = obj(config.sequence);
  const env = obj(config.environment);
  const bench: Obj = { ...(obj(config.benchmark) ?? {}) };
  const moved: string[] = [];
  const rest: Obj = { ...(seq ?? {}) };
  for (const key of SEQUENCE_KEYS) {
    if (seq?.[key] === undefined) continue;
    delete rest[key];
    if (bench[key] !== undefined) continue;
    bench[key] = seq[key];
    moved.push(`sequence.${key} → benchmark.${key}`);
  }
  if (env?.dataset_file !== undefined && bench.dataset_file === undefined) {
    bench.dataset_file = env.dataset_file;
    moved.push('environment.dataset_file → benchmark.dataset_file');
  }
  const dropSequence = seq !== undefined && Object.keys(rest).length === 0;
  if (moved.length === 0 && !dropSequence) return { config, moved };
  const out: Obj = { ...(config as Obj), benchmark: bench };
  if (dropSequence) delete out.sequence;
  else if (seq) out.sequence = rest;
  return { config: out as DisaggConfig, moved };
}

/** The one line that tells a user their file was uploaded converted. */
export function upstreamFormatNotice(file: string, moved: readonly string[]): string {
  return `${file}: old config format, uploaded in the format newer submit.py reads (${moved.join(', ')}); update the file to silence this note`;
}
