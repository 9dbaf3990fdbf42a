// The original framework's perf metric names (utils/config_loader.py DEFAULT_METRICS_CONFIG) and
// how each maps onto our parsed benchmark keys.
import { BENCH_LOG } from '../jobdir/files.js';

export const DEFAULT_PERF_METRIC_NAMES: readonly string[] = ['SERVER_MEDIAN_TTFT', 'SERVER_MEDIAN_E2EL'];

/** `wideep/perf`: mean, median, p99 of TTFT, TPOT, ITL, E2EL in that order. */
export const WIDEEP_PERF_METRIC_NAMES: readonly string[] = ['TTFT', 'TPOT', 'ITL', 'E2EL'].flatMap((m) =>
  ['MEAN', 'MEDIAN', 'P99'].map((s) => `SERVER_${s}_${m}`),
);

export const DEFAULT_PERF_LOG_FILE = BENCH_LOG;

/** Metric names the original writes for a test type. */
export function defaultPerfMetricNames(testType: string): readonly string[] {
  return testType === 'wideep' ? WIDEEP_PERF_METRIC_NAMES : DEFAULT_PERF_METRIC_NAMES;
}

/** The original's default pattern (Python VERBOSE), kept for users who copy and edit it. */
export const DEFAULT_PERF_PATTERN = String.raw`
    ^.*?Median\ TTFT\ \(ms\):\s+([0-9.]+).*?$\n
    (?:.*\n)*?
    ^.*?Median\ E2EL\ \(ms\):\s+([0-9.]+).*?$\n
    (?:.*\n)*?
    ^.*?Benchmark\ with\ concurrency\ (\d+)\ done
`;

const SERVER_NAME =
  /^(?:SERVER|DISAGG_SERVER|WIDEP_SERVER|WIDEEP_SERVER)_(?:(MEAN|MEDIAN|STD|P[0-9_]+)_)?(TTFT|TPOT|ITL|E2EL)$/;

/**
 * The parsed-benchmark key for a CSV metric name (`SERVER_P99_ITL` → `p99_itl_ms`), or undefined
 * for a name that is not one of the original's (custom names are looked up verbatim instead).
 * The old `DISAGG_SERVER_TTFT` had no statistic: it was the median.
 */
export function benchKeyForMetricName(name: string): string | undefined {
  const m = SERVER_NAME.exec(name.toUpperCase());
  if (!m) return undefined;
  const stat = (m[1] ?? 'MEDIAN').toLowerCase();
  return `${stat}_${m[2].toLowerCase()}_ms`;
}
