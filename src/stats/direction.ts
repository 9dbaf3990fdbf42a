// Which way a metric gets better, from its name alone: latencies lower, throughputs higher. Names come
// from both worlds (our bench keys `p99_ttft_ms`, the original's `SERVER_MEDIAN_TTFT`), so the rule
// works on whole tokens, case-insensitive; a YAML gate can override it.

export type Direction = 'lower' | 'higher' | 'unknown';

const LOWER_TOKENS = new Set(['ttft', 'tpot', 'itl', 'e2el', 'latency']);
const HIGHER_TOKENS = new Set(['throughput', 'tps', 'goodput', 'attainment']);

/** Tokens of a metric name, split at `_` and every other non-alphanumeric character. */
export function metricTokens(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

/**
 * `lower` for a token TTFT, TPOT, ITL, E2EL or LATENCY or a name ending in `_ms`; `higher` for a token
 * THROUGHPUT, TPS, GOODPUT or ATTAINMENT (`slo_attainment`); else `unknown`. A time is checked first: `…_ms` is a time whatever else
 * the name says.
 */
export function metricDirection(name: string): Direction {
  const tokens = metricTokens(name);
  if (/_ms$/i.test(name) || tokens.some((t) => LOWER_TOKENS.has(t))) return 'lower';
  if (tokens.some((t) => HIGHER_TOKENS.has(t))) return 'higher';
  return 'unknown';
}

/** The unit a verdict prints after a value; '' when the name does not say. */
export function metricUnit(name: string): string {
  if (/_ms$/i.test(name)) return 'ms';
  if (/_s$/i.test(name)) return 's';
  const tokens = metricTokens(name);
  // The original's SERVER_*_TTFT/TPOT/ITL/E2EL names carry no unit but are milliseconds.
  if (tokens.some((t) => LOWER_TOKENS.has(t) && t !== 'latency')) return 'ms';
  // Goodput counts requests (DistServe, vLLM); SLO attainment is a share of requests in percent.
  if (tokens.includes('attainment')) return '%';
  if (tokens.includes('goodput')) return 'req/s';
  if (tokens.some((t) => HIGHER_TOKENS.has(t))) return tokens.includes('request') ? 'req/s' : 'tok/s';
  return '';
}

const SPREAD_TOKENS = new Set(['std', 'stdev', 'stddev', 'sd', 'mad', 'var', 'variance', 'iqr', 'cv']);

/**
 * A spread of a metric (`std_ttft_ms`, `SERVER_STD_TPOT`): a token STD, STDEV, STDDEV, SD, MAD, VAR,
 * VARIANCE, IQR or CV. A wider spread is not a slower server: `disagg compare` shows it, never judges it.
 */
export function isSpreadMetric(name: string): boolean {
  return metricTokens(name).some((t) => SPREAD_TOKENS.has(t));
}
