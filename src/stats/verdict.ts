// Judges parsed lm-eval runs against the config's accuracy datasets: one verdict per dataset per
// run (every run must pass, as in the original), with a message a person can act on.
import type { AccuracyDatasetConfig, AccuracyResultRow, AccuracyRun, DatasetVerdict } from '../types.js';
import { computeThreshold, datasetDefaults, toFraction } from './threshold.js';

/** theta above this means the gate is blind to regressions people care about. */
export const THETA_WARN = 0.05;
/** Allowed drop for `threshold_type: absolute` when the config gives no `tolerance`. */
export const DEFAULT_TOLERANCE = 0.02;

const f4 = (x: number): string => x.toFixed(4);
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export function datasetName(ds: AccuracyDatasetConfig): string {
  // Real configs write `dataset_name`, which the original ignored (everything became gsm8k).
  return ds.name ?? ds.dataset_name ?? 'gsm8k';
}

function sameTask(row: AccuracyResultRow, name: string): boolean {
  return row.task.toLowerCase() === name.toLowerCase();
}

function describeRows(rows: AccuracyResultRow[]): string {
  return rows.map((r) => `${r.filter}/${r.metric}`).join(', ');
}

function describeTasks(run: AccuracyRun): string {
  const tasks = [...new Set(run.results.map((r) => r.task))];
  return tasks.length === 0 ? 'no result rows' : `tasks ${tasks.join(', ')}`;
}

interface Plan {
  name: string;
  type: 'hypothesis_test' | 'absolute';
  higherIsBetter: boolean;
  expected: number;
  threshold: number;
  theta?: number;
  n?: number;
  alpha?: number;
  beta?: number;
  sigma?: number;
  tolerance?: number;
  warnings: string[];
}

/** Threshold and parameters of one dataset; independent of the runs. */
function plan(ds: AccuracyDatasetConfig): Plan {
  const name = datasetName(ds);
  const defaults = datasetDefaults(name);
  const type = ds.threshold_type ?? 'hypothesis_test';
  const higherIsBetter = ds.higher_is_better ?? defaults.higher_is_better;
  const expected = toFraction(ds.expected_value);
  if (type === 'absolute') {
    const tolerance = toFraction(ds.tolerance ?? DEFAULT_TOLERANCE);
    const threshold = higherIsBetter ? expected - tolerance : expected + tolerance;
    return { name, type, higherIsBetter, expected, threshold, tolerance, warnings: [] };
  }
  if (type !== 'hypothesis_test') {
    throw new RangeError(`unknown threshold_type '${String(type)}' (use hypothesis_test or absolute)`);
  }
  const alpha = ds.alpha ?? defaults.alpha;
  const beta = ds.beta ?? defaults.beta;
  const n = ds.num_samples ?? defaults.num_samples;
  const sigma = toFraction(ds.sigma ?? defaults.sigma);
  const { threshold, theta } = computeThreshold({
    expected,
    numSamples: n,
    sigma,
    alpha,
    beta,
    higherIsBetter,
  });
  const warnings: string[] = [];
  if (theta > THETA_WARN) {
    warnings.push(
      `theta is ${f4(theta)} (${pct(theta)}): this gate cannot detect a real regression smaller than ` +
        `${f4(theta)} with n=${n}; more samples (num_samples) or a smaller sigma would tighten it`,
    );
  }
  return { name, type, higherIsBetter, expected, threshold, theta, n, alpha, beta, sigma, warnings };
}

function pickRow(ds: AccuracyDatasetConfig, rows: AccuracyResultRow[]): { filter: string; metric: string } {
  const filter =
    ds.filter_type ??
    (rows.some((r) => r.filter === 'flexible-extract') ? 'flexible-extract' : rows[0].filter);
  const metric = ds.metric ?? (datasetName(ds).toLowerCase() === 'gsm8k' ? 'exact_match' : rows[0].metric);
  return { filter, metric };
}

function explain(
  p: Plan,
  observed: number,
  passed: boolean,
  where: string,
): { headline: string; message: string } {
  const side = p.higherIsBetter
    ? passed
      ? 'is at or above'
      : 'is below'
    : passed
      ? 'is at or below'
      : 'is above';
  const head = `${where}: ${passed ? 'PASSED' : 'FAILED'}: observed ${f4(observed)} (${pct(observed)}) ${side} the threshold ${f4(p.threshold)} (${pct(p.threshold)})`;
  let how: string;
  if (p.type === 'absolute') {
    how = `expected ${f4(p.expected)} ${p.higherIsBetter ? 'minus' : 'plus'} an allowed ${f4(p.tolerance ?? 0)}`;
  } else {
    const power = Math.round((1 - (p.beta ?? 0)) * 100);
    how =
      `expected ${f4(p.expected)}; one-sided hypothesis test with n=${p.n}, alpha=${p.alpha}, beta=${p.beta}, ` +
      `sigma=${p.sigma}: a real ${p.higherIsBetter ? 'drop' : 'rise'} of theta=${f4(p.theta ?? 0)} or more ` +
      `(the minimum detectable effect) is caught ${power}% of the time, a false alarm happens ${Number(((p.alpha ?? 0) * 100).toPrecision(6))}% of the time`;
  }
  const warn = p.warnings.length > 0 ? ` Warning: ${p.warnings.join('; ')}.` : '';
  return { headline: head, message: `${head}; ${how}.${warn}` };
}

function verdictBase(
  p: Plan,
  runIndex: number,
): Omit<DatasetVerdict, 'passed' | 'headline' | 'message' | 'filter' | 'metric'> {
  return {
    dataset: p.name,
    expected: p.expected,
    threshold: p.threshold,
    theta: p.theta,
    n: p.n,
    alpha: p.alpha,
    beta: p.beta,
    thresholdType: p.type,
    higherIsBetter: p.higherIsBetter,
    warnings: [...p.warnings],
    run: runIndex + 1,
  };
}

function judgeRun(
  ds: AccuracyDatasetConfig,
  p: Plan,
  run: AccuracyRun,
  runIndex: number,
  runCount: number,
): DatasetVerdict {
  const base = verdictBase(p, runIndex);
  const label = runCount > 1 ? `${p.name}, run ${runIndex + 1} of ${runCount}` : p.name;
  const rows = run.results.filter((r) => sameTask(r, p.name));
  if (rows.length === 0) {
    const headline = `${label}: FAILED: dataset '${p.name}' not found in the accuracy log`;
    return {
      ...base,
      filter: ds.filter_type ?? 'flexible-extract',
      metric: ds.metric ?? 'exact_match',
      passed: false,
      headline,
      message: `${headline}; found ${describeTasks(run)}.`,
    };
  }
  const { filter, metric } = pickRow(ds, rows);
  const row = rows.find((r) => r.filter === filter && r.metric === metric);
  if (row === undefined) {
    const headline = `${label}: FAILED: no '${filter}' filter with metric '${metric}' for ${p.name}`;
    return {
      ...base,
      filter,
      metric,
      passed: false,
      headline,
      message: `${headline}; found ${describeRows(rows)}.`,
    };
  }
  const observed = row.value;
  // A hair of slack so 0.85 − 0.05 computed in floating point does not fail an exact 0.80.
  const passed = p.higherIsBetter ? observed >= p.threshold - 1e-12 : observed <= p.threshold + 1e-12;
  return {
    ...base,
    filter,
    metric,
    observed,
    passed,
    ...explain(p, observed, passed, `${label} (${filter}, ${metric})`),
  };
}

/** One verdict per dataset per run; no runs at all → one failed verdict per dataset. */
export function judgeAccuracy(
  datasets: readonly AccuracyDatasetConfig[],
  runs: readonly AccuracyRun[],
): DatasetVerdict[] {
  const out: DatasetVerdict[] = [];
  for (const ds of datasets) {
    let p: Plan;
    try {
      p = plan(ds);
    } catch (err) {
      out.push(configError(ds, (err as Error).message));
      continue;
    }
    if (runs.length === 0) {
      const headline = `${p.name}: FAILED: no lm-eval result table found in the accuracy log`;
      out.push({
        ...verdictBase(p, 0),
        filter: ds.filter_type ?? 'flexible-extract',
        metric: ds.metric ?? 'exact_match',
        passed: false,
        headline,
        message: `${headline}.`,
      });
      continue;
    }
    runs.forEach((run, i) => out.push(judgeRun(ds, p, run, i, runs.length)));
  }
  return out;
}

function configError(ds: AccuracyDatasetConfig, reason: string): DatasetVerdict {
  const headline = `${datasetName(ds)}: FAILED: the accuracy config is unusable: ${reason}`;
  return {
    dataset: datasetName(ds),
    filter: ds.filter_type ?? 'flexible-extract',
    metric: ds.metric ?? 'exact_match',
    passed: false,
    expected: ds.expected_value,
    threshold: Number.NaN,
    thresholdType: ds.threshold_type ?? 'hypothesis_test',
    higherIsBetter: ds.higher_is_better ?? true,
    headline,
    message: `${headline}.`,
    warnings: [],
  };
}

/** Alias matching docs/ARCHITECTURE.md: verdicts of one dataset over all runs. */
export function judgeDataset(ds: AccuracyDatasetConfig, runs: readonly AccuracyRun[]): DatasetVerdict[] {
  return judgeAccuracy([ds], runs);
}
