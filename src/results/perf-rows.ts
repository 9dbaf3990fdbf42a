// Rows of perf_script_test_results.csv, built exactly as the original's
// LogParser._convert_to_perf_result_format (TRT-LLM tests/integration/defs/perf/disagg/reporting/report.py).
import type { BenchBlock, Category, DisaggConfig } from '../types.js';
import { lockClocks } from './gpu-clocks.js';
import { benchKeyForMetricName, defaultPerfMetricNames } from '../parsers/metric-names.js';

/** The original 17 columns, in order (checked against the real file's header in the tests). */
export const PERF_CSV_COLUMNS = [
  'network_name',
  'network_hash',
  'sm_clk',
  'mem_clk',
  'gpu_idx',
  'perf_case_name',
  'test_name',
  'original_test_name',
  'perf_metric',
  'total_time__sec',
  'start_timestamp',
  'end_timestamp',
  'state',
  'command',
  'threshold',
  'absolute_threshold',
  'metric_type',
] as const;

export type PerfColumn = (typeof PERF_CSV_COLUMNS)[number];
export type PerfRow = Record<PerfColumn, string | number>;

/** pytest method per category; the CSV names keep the original's `test_benchmark[<id>]` form. */
const METHOD: Record<Category, string> = {
  perf: 'test_benchmark',
  accuracy: 'test_accuracy',
  stress: 'test_stress',
};

export interface PerfRowsInput {
  testId: string;
  category: Category;
  testType: string;
  blocks: readonly BenchBlock[];
  /** CSV metric names in order; default: the original's names for the test type. */
  metricNames?: readonly string[];
  /** Raw GPU_TYPE (GB200, H100…) for sm_clk / mem_clk. */
  gpuType?: string;
  config: DisaggConfig;
  /** Name the rows carry before `_con:<N>`; default `test_<method>[<testId>]` like the original. */
  testName?: string;
  startedAt?: Date;
  endedAt?: Date;
  /** Test duration for total_time__sec; default endedAt − startedAt (Date has only ms). */
  durationSec?: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * `YYYY-MM-DD HH:MM:SS` in UTC, the original's format without a zone; UTC so that the one reader
 * (parseCsvTimestamp in csv.ts) gets the same instant back whatever the machines' time zones.
 */
export function formatTimestamp(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Value of one metric name in a block: custom names verbatim, the original's names via key map. */
export function metricValue(block: BenchBlock, name: string): number | undefined {
  const direct = block.metrics[name];
  if (direct !== undefined) return direct;
  const key = benchKeyForMetricName(name);
  return key === undefined ? undefined : block.metrics[key];
}

/**
 * One row per metric per completed concurrency block, blocks in log order and metrics in name order.
 * Warm-up, incomplete (no `done` line) and concurrency-less blocks give no rows — the original's
 * regex could not match them either. A metric missing from a block is left out, not written as 0.
 */
export function perfRowsFor(input: PerfRowsInput): PerfRow[] {
  const names = input.metricNames ?? defaultPerfMetricNames(input.testType);
  const base = input.testName ?? `${METHOD[input.category]}[${input.testId}]`;
  const { smClk, memClk } = lockClocks(input.gpuType);
  const model = input.config.metadata?.model_name ?? 'unknown';
  const precision = input.config.metadata?.precision ?? 'unknown';
  const started = input.startedAt ?? new Date();
  const ended = input.endedAt ?? new Date();
  const totalTime = Number((input.durationSec ?? (ended.getTime() - started.getTime()) / 1000).toFixed(6));
  const rows: PerfRow[] = [];
  for (const block of input.blocks) {
    if (block.warmup || !block.completed || block.concurrency === null) continue;
    const name = `${base}_con:${block.concurrency}`;
    for (const metric of names) {
      const value = metricValue(block, metric);
      if (value === undefined) continue;
      rows.push({
        // The original's `\[(…)\](-con-\d+)` never matches `_con:N`; its fallback replaces `/`.
        network_name: name.replace(/\//g, '-'),
        network_hash: name,
        sm_clk: smClk,
        mem_clk: memClk,
        gpu_idx: '',
        perf_case_name: name,
        test_name: name,
        original_test_name: name,
        // The log prints 2 decimals; the result file carries float noise (2588.611299999991): write what the
        // benchmark printed, so rows compare equal whichever source they came from.
        perf_metric: Number(value.toFixed(2)),
        total_time__sec: totalTime,
        start_timestamp: formatTimestamp(started),
        end_timestamp: formatTimestamp(ended),
        state: 'valid',
        command: `disagg_benchmark --model=${model} --${precision} --concurrency=${block.concurrency}`,
        threshold: '',
        absolute_threshold: '',
        metric_type: metric,
      });
    }
  }
  return rows;
}
