// Two sets of metric samples → one row per (test, concurrency, metric), judged by the regression rule.
// The baseline side's samples of a key are its runs; the current side's latest sample is the value.
import { sampleKey, type MetricSample } from '../results/compare-inputs.js';
import { metricDirection } from './direction.js';
import {
  describeJudgement,
  judge,
  selectBaseline,
  type RuleSettings,
  type RuleVerdict,
} from './regression.js';

export type CompareVerdict = RuleVerdict | 'new' | 'missing';

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
  const runs = base ? selectBaseline(base, settings.runs) : [];
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
  const j = judge(
    runs.map((r) => r.value),
    latest.value,
    metricDirection(named.metric),
    settings,
  );
  return {
    ...head,
    baseline: j.baseline,
    baselineRuns: j.baselineRuns,
    current: j.current,
    delta: j.delta,
    noise: j.noise,
    allowed: j.allowed,
    verdict: j.verdict,
    margin: j.margin,
    message: `${named.test}: ${describeJudgement(head, j, { minRuns: settings.minRuns })}`,
  };
}

/** Sort rank of the rows without a margin: after every judged row. */
const UNJUDGED_ORDER: Record<string, number> = { insufficient: 0, missing: 1, new: 2 };

function compareRows(a: CompareRow, b: CompareRow): number {
  if (a.margin !== null && b.margin !== null && a.margin !== b.margin) return b.margin - a.margin;
  if (a.margin !== null && b.margin === null) return -1;
  if (a.margin === null && b.margin !== null) return 1;
  if (a.margin === null && b.margin === null && a.verdict !== b.verdict)
    return (UNJUDGED_ORDER[a.verdict] ?? 0) - (UNJUDGED_ORDER[b.verdict] ?? 0);
  return a.test.localeCompare(b.test) || a.concurrency - b.concurrency || a.metric.localeCompare(b.metric);
}

/**
 * Judge every key of either side: regressed / improved / unchanged / changed / insufficient where both
 * have it, `new` and `missing` (never a regression) where one lacks it. Rows sorted worst first.
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
