// Maps a benchmark_serving label (`Median TTFT (ms)`) to our stable metric key (`median_ttft_ms`).
// Keyed by label text, never by position: TRT-LLM, old vLLM and new vLLM print different sets.

/** Labels whose key is not derivable from the generic `<stat> <metric> (<unit>)` rule. */
const FIXED: Record<string, string> = {
  'total requests': 'total_requests',
  'successful requests': 'successful_requests',
  'failed requests': 'failed_requests',
  'total failed requests': 'failed_requests',
  'benchmark duration (s)': 'duration_s',
  'total input tokens': 'total_input_tokens',
  'total generated tokens': 'total_output_tokens',
  'request throughput (req/s)': 'request_throughput',
  'request goodput (req/s)': 'request_goodput',
  'output token throughput (tok/s)': 'output_throughput',
  // TRT-LLM and old vLLM print `Total Token`, new vLLM `Total token`: the map is lower-case.
  'total token throughput (tok/s)': 'total_token_throughput',
  'user throughput (tok/s)': 'user_throughput',
  'peak output token throughput (tok/s)': 'peak_output_throughput',
  'peak concurrent requests': 'peak_concurrent_requests',
  'maximum request concurrency': 'max_concurrency',
  'request rate configured (rps)': 'request_rate_configured',
  'rtfx (inverse real-time factor)': 'rtfx',
  'total energy (j)': 'total_energy_j',
  'output tokens per second per watt (tps/w)': 'output_tokens_per_s_per_watt',
  'total gpu power (w)': 'total_gpu_power_w',
};

/** Every key a fixed label gives (for "did you mean" on a misspelt metric). */
export const FIXED_BENCH_KEYS: readonly string[] = [...new Set(Object.values(FIXED))];

/** Short names of the four latency metrics; everything else is snake-cased. */
const LATENCY: Record<string, string> = { ttft: 'ttft', tpot: 'tpot', itl: 'itl', e2el: 'e2el' };

const STAT_LINE = /^(mean|median|std dev|std|min|max|p(\d+(?:\.\d+)?))\s+(.+?)(?:\s*\(([^)]*)\))?$/i;

export function snake(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function statKey(stat: string, percentile: string | undefined): string {
  if (percentile !== undefined) return `p${percentile.replace('.', '_')}`;
  const s = stat.toLowerCase();
  return s.startsWith('std') ? 'std' : s;
}

// Labels repeat in every block: caching the mapping keeps the per-line cost to one Map lookup.
const cache = new Map<string, string>();

/** Metric key for a label (without the trailing colon). */
export function labelToKey(label: string): string {
  const cached = cache.get(label);
  if (cached !== undefined) return cached;
  const norm = label.trim().replace(/\s+/g, ' ').toLowerCase();
  let key = FIXED[norm];
  if (key === undefined) {
    const m = STAT_LINE.exec(norm);
    if (m) {
      const metric = m[3].trim();
      const unit = m[4] === undefined ? '' : `_${snake(m[4])}`;
      key = `${statKey(m[1], m[2])}_${LATENCY[metric] ?? snake(metric)}${unit}`;
    } else {
      key = snake(norm);
    }
  }
  // Bound the cache: a corrupt log could otherwise fill it with one-off labels.
  if (cache.size < 10_000) cache.set(label, key);
  return key;
}
