// Semantic checks of the original framework (utils/config_validator.py), with messages that say
// what is wrong and by how much, plus the spec's accuracy requirements for stress/accuracy tests.
import type { Category, DisaggConfig, Problem } from '../types.js';
import type { ParsedYaml } from './load.js';
import type { PathSegments } from './problems.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Finite numbers only: wrongly typed values were already reported by the schema. */
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Concurrencies from a space-separated string, a single number or a list; non-numbers are dropped. */
export function parseConcurrencyList(v: unknown): number[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [v] : [];
  if (typeof v === 'string') {
    return v
      .trim()
      .split(/[\s,]+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  }
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return [];
}

export interface CheckInput {
  config: DisaggConfig;
  category: Category;
  parsed: ParsedYaml;
  /** Rules real suites break on purpose (over-concurrency) are errors only under strict. */
  strict?: boolean;
}

export function semanticChecks({ config, category, parsed, strict = false }: CheckInput): Problem[] {
  const out: Problem[] = [];
  const error = (segs: PathSegments, msg: string): void => {
    out.push(parsed.problem('error', segs, msg, { source: 'check' }));
  };
  const cannot = (what: string, missing: string): void => {
    const segs = missing.split('.');
    out.push(
      parsed.problem('warning', segs, `cannot check ${what}: ${missing} is not set`, { source: 'check' }),
    );
  };

  const bench = obj(config.benchmark) ?? {};
  const wc = obj(config.worker_config) ?? {};
  const gen = obj(wc.gen);
  const ctx = obj(wc.ctx);
  const seq = obj(config.sequence) ?? {};

  // 1. Streaming: TTFT/ITL are measured from streamed tokens.
  if (bench.streaming === undefined) {
    error(
      ['benchmark', 'streaming'],
      'streaming must be true (the benchmark measures streamed tokens); it is not set',
    );
  } else if (bench.streaming === false) {
    error(
      ['benchmark', 'streaming'],
      'streaming must be true (the benchmark measures streamed tokens), got false',
    );
  }

  if (gen) {
    // 2. MTP token budget: each sequence needs 1 + num_nextn_predict_layers token slots per step.
    const mtp = num(obj(gen.speculative_config)?.num_nextn_predict_layers) ?? 0;
    const mnt = num(gen.max_num_tokens);
    const mbs = num(gen.max_batch_size);
    if (mtp > 0) {
      if (mnt === undefined) cannot('the MTP token budget', 'worker_config.gen.max_num_tokens');
      else if (mbs === undefined) cannot('the MTP token budget', 'worker_config.gen.max_batch_size');
      else if (mnt < mbs * (mtp + 1)) {
        const need = mbs * (mtp + 1);
        error(
          ['worker_config', 'gen', 'max_num_tokens'],
          `gen max_num_tokens ${mnt} is ${need - mnt} below max_batch_size ${mbs} × (MTP layers ${mtp} + 1) = ${need}; ` +
            `raise max_num_tokens to at least ${need} or lower max_batch_size`,
        );
      }
    }
  }

  // 3. Sequence lengths: old configs keep them in `sequence:`.
  const isl = num(bench.input_length) ?? num(seq.input_length);
  const osl = num(bench.output_length) ?? num(seq.output_length);
  if (ctx && isl !== undefined) {
    const v = num(ctx.max_seq_len);
    if (v === undefined) {
      if (ctx.max_seq_len === undefined) cannot('the ctx sequence length', 'worker_config.ctx.max_seq_len');
    } else if (v <= isl) {
      error(
        ['worker_config', 'ctx', 'max_seq_len'],
        `ctx max_seq_len ${v} must be greater than input_length ${isl}; it is ${isl + 1 - v} too small`,
      );
    }
  }
  if (gen && isl !== undefined && osl !== undefined) {
    const v = num(gen.max_seq_len);
    if (v === undefined) {
      if (gen.max_seq_len === undefined) cannot('the gen sequence length', 'worker_config.gen.max_seq_len');
    } else if (v <= isl + osl) {
      error(
        ['worker_config', 'gen', 'max_seq_len'],
        `gen max_seq_len ${v} must be greater than input_length + output_length = ${isl} + ${osl} = ${isl + osl}; ` +
          `it is ${isl + osl + 1 - v} too small`,
      );
    }
  }
  // Only when absent: a wrongly typed length was already reported by the schema.
  const absent = (k: string): boolean => bench[k] === undefined && seq[k] === undefined;
  if ((ctx || gen) && absent('input_length')) cannot('max_seq_len', 'benchmark.input_length');
  else if (gen && absent('output_length')) cannot('gen max_seq_len', 'benchmark.output_length');

  // 4. Every concurrency must fit in the gen batch (× TP ranks when attention DP batches per rank).
  if (bench.concurrency_list === undefined) {
    error(
      ['benchmark', 'concurrency_list'],
      'concurrency_list is not set; list the concurrencies to run, e.g. "1 2 4 8"',
    );
  } else if (gen) {
    const list = parseConcurrencyList(bench.concurrency_list);
    const mbs = num(gen.max_batch_size);
    const dp = gen.enable_attention_dp === true;
    const tp = num(gen.tensor_parallel_size);
    if (list.length > 0) {
      if (mbs === undefined) cannot('concurrency against the batch size', 'worker_config.gen.max_batch_size');
      else if (dp && tp === undefined)
        cannot('concurrency against the batch size', 'worker_config.gen.tensor_parallel_size');
      else {
        const limit = dp ? mbs * (tp ?? 1) : mbs;
        list.forEach((c, i) => {
          if (c <= limit) return;
          const segs: PathSegments = Array.isArray(bench.concurrency_list)
            ? ['benchmark', 'concurrency_list', i]
            : ['benchmark', 'concurrency_list'];
          // Real suites run above the batch size on purpose (queueing load): a warning unless strict.
          out.push(
            parsed.problem(
              strict ? 'error' : 'warning',
              segs,
              dp
                ? `concurrency ${c} exceeds gen max_batch_size ${mbs} × tensor_parallel_size ${tp} = ${limit} by ${c - limit} ` +
                    `(with enable_attention_dp each of the ${tp} ranks batches on its own)`
                : `concurrency ${c} exceeds gen max_batch_size ${mbs} by ${c - mbs}`,
              { source: 'check' },
            ),
          );
        });
      }
    }
  }

  // 5. benchmark_ratio only matters to the SA client, so 0 (upstream perf-sanity configs) is fine without it.
  const ratio = num(bench.benchmark_ratio);
  if (ratio !== undefined && ratio <= 0 && bench.use_nv_sa_benchmark === true) {
    error(
      ['benchmark', 'benchmark_ratio'],
      `benchmark_ratio must be above 0 with use_nv_sa_benchmark: true (the SA client draws request lengths ` +
        `from benchmark_ratio × length up to the length), got ${ratio}; ` +
        'it is unused and may be 0 only with use_nv_sa_benchmark: false',
    );
  }

  // 6. Accuracy and stress tests judge accuracy: they need datasets and lm-eval switched on.
  if (category === 'stress' || category === 'accuracy') {
    const label = category === 'stress' ? 'Stress' : 'Accuracy';
    const datasets = obj(obj(config.metadata)?.accuracy)?.datasets;
    if (!Array.isArray(datasets) || datasets.length === 0) {
      error(
        ['metadata', 'accuracy', 'datasets'],
        `${label} test has no accuracy_config: metadata.accuracy.datasets is ${Array.isArray(datasets) ? 'empty' : 'missing'}; ` +
          'add at least one dataset, e.g. "- name: gsm8k" with "expected_value: 0.95"',
      );
    }
    const acc = obj(config.accuracy);
    const enabled = acc?.enable_accuracy_test;
    // A non-boolean value was already reported by the schema.
    if (enabled === undefined || enabled === false) {
      error(
        acc ? ['accuracy', 'enable_accuracy_test'] : ['accuracy'],
        `accuracy.enable_accuracy_test must be true for ${category === 'stress' ? 'a stress' : 'an accuracy'} test ` +
          `(without it lm-eval does not run and there is no accuracy to judge); it is ${enabled === false ? 'false' : 'not set'}`,
      );
    }
  }
  return out;
}
