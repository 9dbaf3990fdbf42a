// The regression rule shared by the history gate and `disagg compare`: a current value against the
// median of baseline runs, with an allowance that widens with the baseline's own noise. The verdict
// comes with a sentence a person can act on, like the accuracy verdicts.
import { median as sortedMedian } from 'simple-statistics';
import { metricDirection, metricUnit, type Direction } from './direction.js';

/** MAD × 1.4826 estimates the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;
/** Float slack: a worsening exactly at the allowance is not a regression. */
export const EPSILON = 1e-9;
/** Below this many baseline runs the noise is not measured (taken as 0). */
export const MIN_RUNS_FOR_NOISE = 3;

export interface RuleSettings {
  /** Smallest allowed worsening, a fraction (0.05 = 5 %). */
  tolerance: number;
  /** Allowed worsening in units of the baseline's relative noise. */
  noiseK: number;
  /** Baseline runs used: the last N by end time; 0 = all. */
  runs: number;
  /** Fewer baseline runs than this give no verdict. */
  minRuns: number;
}

/** The history gate of a test. */
export const HISTORY_GATE_DEFAULTS: Readonly<RuleSettings> = {
  tolerance: 0.05,
  noiseK: 3,
  runs: 5,
  minRuns: 3,
};
/** `disagg compare`: comparing two single runs is the common use. */
export const COMPARE_DEFAULTS: Readonly<RuleSettings> = { ...HISTORY_GATE_DEFAULTS, minRuns: 1 };

export type RuleVerdict = 'regressed' | 'improved' | 'unchanged' | 'changed' | 'insufficient';

export interface Judgement {
  verdict: RuleVerdict;
  direction: Direction;
  /** Median of the baseline runs. */
  baseline: number;
  baselineRuns: number;
  current: number;
  /** (current − baseline) / baseline; null when the baseline is 0. */
  delta: number | null;
  /** 1.4826 × MAD / median with ≥ 3 runs, else 0. */
  noise: number;
  /** max(tolerance, k × noise). */
  allowed: number;
  /** Relative change for the worse (negative = better); null when the direction is unknown. */
  worsening: number | null;
  /** worsening − allowed (|delta| − allowed without a direction): how close to failing, for sorting. */
  margin: number;
}

/** One baseline candidate: a value of one run, with what decides whether and in which order it counts. */
export interface RunValue {
  value: number;
  /** Epoch ms of the run's end; null sorts as the oldest. */
  endTime: number | null;
  /** Only runs whose test passed are a baseline. */
  passed: boolean;
}

function checkValues(values: readonly number[], what: string): void {
  if (values.length === 0) throw new RangeError(`${what} of no values`);
  for (const v of values)
    if (!Number.isFinite(v)) throw new RangeError(`${what}: ${v} is not a finite number`);
}

/** Middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  checkValues(values, 'median');
  return sortedMedian([...values]);
}

/** Median absolute deviation, unscaled: median of |x − median|. */
export function medianAbsoluteDeviation(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((v) => Math.abs(v - m)));
}

/** Relative noise of the baseline: 1.4826 × MAD / median with ≥ 3 runs; 0 with fewer or a median of 0. */
export function relativeNoise(values: readonly number[]): number {
  if (values.length < MIN_RUNS_FOR_NOISE) return 0;
  const m = median(values);
  // Relative to a zero median the noise is undefined; the rule then falls back to the tolerance.
  return m === 0 ? 0 : (MAD_TO_SIGMA * medianAbsoluteDeviation(values)) / Math.abs(m);
}

/**
 * The runs that form a baseline: those that passed, ordered by end time (ties keep their input
 * order), the last `runs` of them (0 = all).
 */
export function selectBaseline<T extends RunValue>(candidates: readonly T[], runs: number): T[] {
  const ordered = candidates
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.passed)
    .sort((a, b) => (a.c.endTime ?? -Infinity) - (b.c.endTime ?? -Infinity) || a.i - b.i)
    .map(({ c }) => c);
  return runs > 0 ? ordered.slice(-runs) : ordered;
}

function worseningOf(current: number, base: number, direction: Direction): number | null {
  if (direction === 'unknown') return null;
  const sign = direction === 'lower' ? 1 : -1;
  // A zero baseline has no relative change: any move is infinitely large, in its own direction.
  if (base === 0) return current === 0 ? 0 : sign * Math.sign(current) * Infinity;
  return (sign * (current - base)) / Math.abs(base);
}

/**
 * The rule: worsening = (current − median) / median for lower-is-better (its negative for
 * higher-is-better); allowed = max(tolerance, k × noise); regressed if worsening > allowed + 1e-9,
 * improved if worsening < −allowed − 1e-9, else unchanged. Without a direction, |delta| > allowed is
 * `changed`. Fewer baseline values than `minRuns` is `insufficient` (the numbers are still given).
 */
export function judge(
  baselineValues: readonly number[],
  current: number,
  direction: Direction,
  settings: Pick<RuleSettings, 'tolerance' | 'noiseK' | 'minRuns'>,
): Judgement {
  checkValues([current], 'current value');
  const base = median(baselineValues);
  const noise = relativeNoise(baselineValues);
  const allowed = Math.max(settings.tolerance, settings.noiseK * noise);
  const delta = base === 0 ? null : (current - base) / base;
  const worsening = worseningOf(current, base, direction);
  const change = delta === null ? (current === base ? 0 : Infinity) : Math.abs(delta);
  const margin = (worsening ?? change) - allowed;
  let verdict: RuleVerdict;
  if (baselineValues.length < settings.minRuns) verdict = 'insufficient';
  else if (worsening === null) verdict = change > allowed + EPSILON ? 'changed' : 'unchanged';
  else if (worsening > allowed + EPSILON) verdict = 'regressed';
  else if (worsening < -allowed - EPSILON) verdict = 'improved';
  else verdict = 'unchanged';
  return {
    verdict,
    direction,
    baseline: base,
    baselineRuns: baselineValues.length,
    current,
    delta,
    noise,
    allowed,
    worsening,
    margin,
  };
}

/** Judge with the direction read from the metric name. */
export function judgeMetric(
  metric: string,
  baselineValues: readonly number[],
  current: number,
  settings: Pick<RuleSettings, 'tolerance' | 'noiseK' | 'minRuns'>,
): Judgement {
  return judge(baselineValues, current, metricDirection(metric), settings);
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** `10,840` / `1,122.63`: the value as people read it. */
export function formatValue(value: number, unit = ''): string {
  return `${NUMBER.format(value)}${unit ? ` ${unit}` : ''}`;
}

/** A fraction as a percentage with one decimal: 0.0913 → `9.1 %`. */
export function formatPercent(fraction: number): string {
  return `${(Math.abs(fraction) * 100).toFixed(1)} %`;
}

export interface Subject {
  metric: string;
  /** null for a metric measured once per test rather than per concurrency. */
  concurrency: number | null;
}

export function subjectText(s: Subject): string {
  return s.concurrency === null ? s.metric : `${s.metric} at concurrency ${s.concurrency}`;
}

function outcomeText(j: Judgement, minRuns: number, metric: string): string {
  switch (j.verdict) {
    case 'regressed':
      return 'FAILED';
    case 'improved':
      return 'PASSED (improved)';
    case 'unchanged':
      return 'PASSED';
    case 'changed':
      return `CHANGED (no known direction for ${metric}; a gate can set higher_is_better)`;
    case 'insufficient':
      return `no verdict: ${j.baselineRuns} baseline run${j.baselineRuns === 1 ? '' : 's'}, ${minRuns} needed`;
  }
}

/**
 * The verdict in words, e.g. `output_throughput at concurrency 64: 10,840 tok/s is 9.1 % below the
 * baseline 11,930 (median of 5 runs, noise ±1.2 %); allowed −5.0 % → FAILED`. `against` names what the
 * value is compared with: `baseline` (runs) or `reference` (a single configured value).
 */
export function describeJudgement(
  subject: Subject,
  j: Judgement,
  options: { minRuns?: number; against?: 'baseline' | 'reference' } = {},
): string {
  const sign = j.direction === 'lower' ? '+' : j.direction === 'higher' ? '−' : '±';
  return (
    `${describeChange(subject, j, options.against)}; allowed ${sign}${formatPercent(j.allowed)} → ` +
    outcomeText(j, options.minRuns ?? 1, subject.metric)
  );
}

/**
 * The change alone, without a verdict, e.g. `median_ttft_ms at concurrency 4: 29.6 ms is 12.0 % above
 * the baseline 26.4 (median of 3 runs, noise ±0.4 %)`: what an ungated test prints about its history.
 */
export function describeChange(
  subject: Subject,
  j: Judgement,
  against: 'baseline' | 'reference' = 'baseline',
): string {
  const unit = metricUnit(subject.metric);
  let where: string;
  if (j.current === j.baseline) where = 'equals';
  else if (j.delta === null) where = `is ${j.current > j.baseline ? 'above' : 'below'}`;
  else where = `is ${formatPercent(j.delta)} ${j.delta > 0 ? 'above' : 'below'}`;
  let runs = '';
  if (against === 'baseline') {
    const n = j.baselineRuns;
    runs =
      n === 1
        ? ' (1 run, noise not measured)'
        : n < MIN_RUNS_FOR_NOISE
          ? ` (median of ${n} runs, noise not measured below ${MIN_RUNS_FOR_NOISE})`
          : ` (median of ${n} runs, noise ±${formatPercent(j.noise)})`;
  }
  const zero = j.delta === null && j.current !== j.baseline ? ', no relative change from 0' : '';
  return `${subjectText(subject)}: ${formatValue(j.current, unit)} ${where} the ${against} ${formatValue(j.baseline)}${runs}${zero}`;
}
