// Two sets of metric samples → one row per (test, concurrency, metric), judged by the regression rule.
// The baseline side's samples of a key are its runs; the current side's latest sample is the value.
import { canonicalMetricName, sampleKey, type MetricSample } from '../results/compare-inputs.js';
import { isSpreadMetric, metricDirection } from './direction.js';
import {
  describeJudgement,
  judge,
  selectBaseline,
  type RuleSettings,
  type RuleVerdict,
} from './regression.js';

/** `shown`: a spread (`std_*`) or a metric of unknown direction: numbers given, never judged. */
export type CompareVerdict = RuleVerdict | 'new' | 'missing' | 'shown';

export interface CompareRow {
  test: string;
  concurrency: number;
  metric: string;
  /** Median of the baseline runs; null without any. */
  baseline: number | null;
  baselineRuns: number;
  current: number | null;
  /** (current − baseline) / baseline; null when either is missing or the baseline is 0. */
  delta: number | null;
  noise: number | null;
  allowed: number | null;
  verdict: CompareVerdict;
  /** worsening − allowed; null when there is nothing to judge. Rows sort on it, worst first. */
  margin: number | null;
  /** The verdict in words. */
  message: string;
}

export interface CompareResult {
  rows: CompareRow[];
  regressions: number;
}

function groupByKey(samples: readonly MetricSample[]): Map<string, MetricSample[]> {
  const groups = new Map<string, MetricSample[]>();
  for (const s of samples) {
    const key = sampleKey(s);
    const group = groups.get(key);
    if (group) group.push(s);
    else groups.set(key, [s]);
  }
  return groups;
}

function where(s: MetricSample): string {
  return `${s.test}: ${s.metric} at concurrency ${s.concurrency}`;
}

function rowFor(
  base: readonly MetricSample[] | undefined,
  cur: readonly MetricSample[] | undefined,
  settings: RuleSettings,
): CompareRow {
  // Names as the current side writes them (the baseline's when the current side lacks the key).
  const latest = cur
    ? selectBaseline(
        cur.map((s) => ({ ...s, passed: true })),
        1,
      )[0]
    : undefined;
  const named = latest ?? (base as MetricSample[])[0];
  const head = { test: named.test, concurrency: named.concurrency, metric: named.metric };
  // A baseline that holds the current run too (a copy of the same history): that sample (same end time
  // and value) is left out when other runs remain, so the current run is judged against earlier ones.
  const others = base?.filter(
    (s) => !(latest && s.endTime !== null && s.endTime === latest.endTime && s.value === latest.value),
  );
  const earlier = others && others.length > 0 ? others : base;
  const runs = earlier ? selectBaseline(earlier, settings.runs) : [];
  const empty = { baseline: null, baselineRuns: 0, delta: null, noise: null, allowed: null, margin: null };
  if (!base) {
    return {
      ...head,
      ...empty,
      current: latest?.value ?? null,
      verdict: 'new',
      message: `${where(named)}: new (no baseline)`,
    };
  }
  if (!latest) {
    return {
      ...head,
      ...empty,
      baselineRuns: runs.length,
      current: null,
      verdict: 'missing',
      message: `${where(named)}: missing from the current side`,
    };
  }
  if (runs.length === 0) {
    return {
      ...head,
      ...empty,
      current: latest.value,
      verdict: 'insufficient',
      message: `${where(named)}: no verdict: no baseline run passed`,
    };
  }
  const direction = metricDirection(named.metric);
  const j = judge(
    runs.map((r) => r.value),
    latest.value,
    direction,
    settings,
  );
  const numbers = {
    ...head,
    baseline: j.baseline,
    baselineRuns: j.baselineRuns,
    current: j.current,
    delta: j.delta,
    noise: j.noise,
  };
  if (direction === 'unknown' || isSpreadMetric(named.metric)) {
    const what = isSpreadMetric(named.metric) ? 'a spread' : 'no known direction';
    return {
      ...numbers,
      allowed: null,
      verdict: 'shown',
      margin: null,
      message: `${where(named)}: shown, not judged (${what})`,
    };
  }
  return {
    ...numbers,
    allowed: j.allowed,
    verdict: j.verdict,
    margin: j.margin,
    message: `${named.test}: ${describeJudgement(head, j, { minRuns: settings.minRuns })}`,
  };
}

/** Sort rank of the rows without a margin: after every judged row. */
const UNJUDGED_ORDER: Record<string, number> = { insufficient: 0, shown: 1, missing: 2, new: 3 };

function compareRows(a: CompareRow, b: CompareRow): number {
  if (a.margin !== null && b.margin !== null && a.margin !== b.margin) return b.margin - a.margin;
  if (a.margin !== null && b.margin === null) return -1;
  if (a.margin === null && b.margin !== null) return 1;
  if (a.margin === null && b.margin === null && a.verdict !== b.verdict)
    return (UNJUDGED_ORDER[a.verdict] ?? 0) - (UNJUDGED_ORDER[b.verdict] ?? 0);
  return a.test.localeCompare(b.test) || a.concurrency - b.concurrency || a.metric.localeCompare(b.metric);
}

/**
 * Judge every key of either side: regressed / improved / unchanged / insufficient where both have it,
 * `shown` (never judged) for a spread or a metric of unknown direction, `new` and `missing` (never a
 * regression) where one lacks it. Rows sorted worst first.
 */
export function compareSamples(
  baseline: readonly MetricSample[],
  current: readonly MetricSample[],
  settings: RuleSettings,
): CompareResult {
  const base = groupByKey(baseline);
  const cur = groupByKey(current);
  const keys = new Set([...base.keys(), ...cur.keys()]);
  const rows = [...keys].map((k) => rowFor(base.get(k), cur.get(k), settings)).sort(compareRows);
  return { rows, regressions: rows.filter((r) => r.verdict === 'regressed').length };
}

/**
 * One input against itself: per (test, concurrency, metric) the latest sample is the current side and
 * the earlier ones the baseline, so no run is compared with itself.
 */
export function splitLatest(samples: readonly MetricSample[]): {
  earlier: MetricSample[];
  latest: MetricSample[];
} {
  const earlier: MetricSample[] = [];
  const latest: MetricSample[] = [];
  for (const group of groupByKey(samples).values()) {
    const last = selectBaseline(
      group.map((s) => ({ s, value: s.value, endTime: s.endTime, passed: true })),
      1,
    )[0].s;
    latest.push(last);
    earlier.push(...group.filter((s) => s !== last));
  }
  return { earlier, latest };
}

export interface SampleFilter {
  /** Metric names (as written or canonical); empty = all. */
  metrics: readonly string[];
  /** Concurrencies; empty = all. */
  concurrencies: readonly number[];
}

/** The samples a `--metric` / `--concurrency` filter keeps. */
export function filterSamples(samples: readonly MetricSample[], filter: SampleFilter): MetricSample[] {
  const metrics = new Set(filter.metrics.map((m) => canonicalMetricName(m).toLowerCase()));
  const conc = new Set(filter.concurrencies);
  return samples.filter(
    (s) =>
      (metrics.size === 0 || metrics.has(canonicalMetricName(s.metric).toLowerCase())) &&
      (conc.size === 0 || conc.has(s.concurrency)),
  );
}
