// Which tests share a Pareto chart: the same model, input length and output length
// (`deepseek-r1-fp4 · 1k/1k`), from the config, or from a test id alone (a perf CSV has no config).
import type { DisaggConfig } from '../types.js';

/** 1024 → `1k`, 8192 → `8k`, 1000 → `1000`: the way test names write lengths. */
function tokens(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

export function workloadOf(config: DisaggConfig): string | undefined {
  const model = config.metadata?.model_name ?? config.metadata?.model_dir_name;
  const isl = config.benchmark?.input_length;
  const osl = config.benchmark?.output_length;
  if (!model || isl === undefined || osl === undefined) return undefined;
  return `${model} · ${tokens(isl)}/${tokens(osl)}`;
}

/**
 * From a test id such as `disagg_perf_deepseek-r1-fp4_1k1k_…` or the original's
 * `disagg_perf_file:deepseek-r1-fp4_000_1k1k_tep:8_…`: the model before the `<n>k<m>k` part (a config
 * index after it left out) and the lengths.
 */
export function workloadOfTestId(testId: string): string | undefined {
  const m = /^(.*?)_(\d+k)(\d+k)(?:_|$)/.exec(testId);
  if (!m) return undefined;
  const model = m[1]
    .replace(/^[^_]+_(?:perf|stress|accuracy|perf-sanity)_/, '')
    .replace(/^[^:_]*file:/, '')
    .replace(/_\d+$/, '');
  return model ? `${model} · ${m[2]}/${m[3]}` : undefined;
}
