// Goodput and SLO attainment of one concurrency from its per-request latencies (DistServe's goodput,
// as vLLM's benchmark_serving computes it): a request is good when it succeeded and every stated
// latency is at most its objective; goodput = good requests ÷ benchmark duration (req/s); attainment =
// good requests ÷ all requests sent (%). Pure: the caller reads the requests and the SLO.
import type { RequestLatency } from '../parsers/bench-requests.js';

/** Latency objectives in ms; each optional (the config's `benchmark.slo`, or the `slo` option). */
/** The metric names the perf step adds per concurrency (gates and validation know them too). */
export const GOODPUT_METRIC = 'goodput';
export const ATTAINMENT_METRIC = 'slo_attainment';

export interface Slo {
  ttft_ms?: number;
  tpot_ms?: number;
  e2el_ms?: number;
}

export type { RequestLatency };

export interface GoodputResult {
  /** Good requests per second of the benchmark's duration. */
  goodput: number;
  /** Good requests as a percentage of all requests (failed ones included); 0 with no request. */
  attainment: number;
  good: number;
  total: number;
}

const KEYS = [
  ['ttft_ms', 'ttftMs'],
  ['tpot_ms', 'tpotMs'],
  ['e2el_ms', 'e2elMs'],
] as const;

/** True when the SLO states at least one objective. */
export function hasSlo(slo: Slo | undefined): slo is Slo {
  return slo !== undefined && KEYS.some(([k]) => slo[k] !== undefined);
}

/**
 * Whether one request meets every stated objective (at most the limit). A failed request never does; a
 * missing TPOT (one output token) counts as met, as in vLLM (which takes it as 0); a missing TTFT or
 * E2EL of a successful request cannot be shown to meet its objective, so it does not.
 */
export function meetsSlo(r: RequestLatency, slo: Slo): boolean {
  if (!r.ok) return false;
  return KEYS.every(([limitKey, valueKey]) => {
    const limit = slo[limitKey];
    if (limit === undefined) return true;
    const value = r[valueKey];
    if (value === undefined || !Number.isFinite(value)) return valueKey === 'tpotMs';
    return value <= limit;
  });
}

export function goodputOf(requests: readonly RequestLatency[], slo: Slo, durationS: number): GoodputResult {
  const good = requests.filter((r) => meetsSlo(r, slo)).length;
  const total = requests.length;
  return {
    goodput: durationS > 0 ? good / durationS : 0,
    attainment: total > 0 ? (good / total) * 100 : 0,
    good,
    total,
  };
}

/** `TTFT ≤ 500 ms, TPOT ≤ 50 ms`: the SLO in words for the report and messages. */
export function sloText(slo: Slo): string {
  return KEYS.filter(([k]) => slo[k] !== undefined)
    .map(([k]) => `${k.slice(0, -3).toUpperCase()} ≤ ${slo[k]} ms`)
    .join(', ');
}

/**
 * Goodput and attainment from a block's own numbers when the benchmark printed `Request goodput
 * (req/s):` (run with `--goodput`) and there are no per-request data: good requests = goodput ×
 * duration, attainment = good ÷ all requests. Undefined without that line.
 */
export function goodputFromLog(metrics: Readonly<Record<string, number>>): GoodputResult | undefined {
  const goodput = metrics.request_goodput;
  if (goodput === undefined) return undefined;
  const ok = metrics.successful_requests;
  const total =
    metrics.total_requests ?? (ok !== undefined ? ok + (metrics.failed_requests ?? 0) : undefined);
  const duration = metrics.duration_s;
  const tput = metrics.request_throughput;
  // The log rounds goodput to 2 decimals: good requests are a whole number at most the successful ones.
  const good =
    duration !== undefined
      ? Math.round(goodput * duration)
      : tput && ok !== undefined
        ? Math.round((goodput / tput) * ok)
        : undefined;
  const attainment =
    good !== undefined && total ? Math.min(100, (Math.min(good, ok ?? good) / total) * 100) : undefined;
  return {
    goodput,
    attainment: attainment ?? Number.NaN,
    good: good ?? Number.NaN,
    total: total ?? Number.NaN,
  };
}
