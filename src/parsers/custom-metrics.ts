// The config's `metrics` override (`log_file`, `extractor_pattern`, `metric_names`), with the
// original's semantics: the pattern is Python VERBOSE+MULTILINE, applied with finditer over the
// whole file; every group but the last is a metric value (zipped with metric_names), the last
// group is the concurrency. Without an extractor_pattern the streaming bench parser is used.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchBlock, BenchParseResult, MetricsOverride } from '../types.js';
import { DEFAULT_PERF_LOG_FILE, defaultPerfMetricNames } from './metric-names.js';
import { loadBenchResults } from './bench.js';
import { compilePythonPattern } from './python-regex.js';

export interface CustomExtraction {
  /** One block per match; metrics are keyed by the configured metric names. */
  blocks: BenchBlock[];
  warnings: string[];
}

/**
 * Apply a custom extractor pattern to a log's text. Unlike the original (which wants ≥3 groups),
 * a pattern with one metric group plus the concurrency group is accepted: that restriction only
 * made single-metric configs silently produce nothing.
 */
export function extractCustomMetrics(
  text: string,
  pattern: string,
  metricNames: readonly string[],
): CustomExtraction {
  const re = compilePythonPattern(pattern);
  const blocks: BenchBlock[] = [];
  const warnings: string[] = [];
  for (const m of text.matchAll(re)) {
    const groups = m.slice(1);
    if (groups.length < 2) {
      warnings.push(
        `Expected at least 2 groups (metrics…, concurrency) but got ${groups.length}; match skipped`,
      );
      continue;
    }
    const concurrency = Number.parseInt(groups[groups.length - 1] ?? '', 10);
    const metrics: Record<string, number> = {};
    // zip() semantics: extra values or extra names are ignored.
    const n = Math.min(groups.length - 1, metricNames.length);
    for (let i = 0; i < n; i++) {
      const value = Number.parseFloat(groups[i] ?? '');
      if (Number.isFinite(value)) metrics[metricNames[i]] = value;
    }
    blocks.push({
      concurrency: Number.isFinite(concurrency) ? concurrency : null,
      completed: true,
      warmup: false,
      metrics,
    });
  }
  const metricGroups = countGroups(re) - 1;
  if (metricGroups >= 1 && metricGroups !== metricNames.length) {
    warnings.push(
      `extractor_pattern has ${metricGroups} metric group(s) but metric_names lists ${metricNames.length}; extra entries ignored`,
    );
  }
  return { blocks, warnings };
}

/** Number of capturing groups of a compiled pattern. */
function countGroups(re: RegExp): number {
  // An empty alternative always matches, so exec() returns an array with one slot per group.
  const probe = new RegExp(`${re.source}|`, re.flags.replace('g', ''));
  return (probe.exec('') ?? []).length - 1;
}

export interface PerfExtraction extends BenchParseResult {
  /** Metric names for the CSV, in order. */
  metricNames: string[];
  logFile: string;
  warnings: string[];
}

/**
 * Perf metrics of a job's log dir as the config asks: each override key replaces the default
 * independently (as in the original). Throws if the log file is missing.
 */
export async function loadPerfMetrics(
  logDir: string,
  testType: string,
  override: MetricsOverride | undefined,
): Promise<PerfExtraction> {
  const logFile = override?.log_file ?? DEFAULT_PERF_LOG_FILE;
  const metricNames = [...(override?.metric_names ?? defaultPerfMetricNames(testType))];
  if (override?.extractor_pattern !== undefined) {
    const file = path.join(logDir, logFile);
    const text = await readFile(file, 'utf8');
    const { blocks, warnings } = extractCustomMetrics(text, override.extractor_pattern, metricNames);
    return { blocks, missing: [], metricNames, logFile, warnings };
  }
  const parsed = await loadBenchResults(logDir, logFile);
  return { ...parsed, metricNames, logFile, warnings: [] };
}
