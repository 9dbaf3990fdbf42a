// Perf gates of a test: per metric, for all or some concurrencies, an absolute limit (an SLA such as
// p99 TTFT ≤ 2000 ms), a reference value with a relative tolerance, and/or no regression against the
// test's history. Pure functions: the caller gives the measured metrics and the history records.
import type { HistoryRecord } from '../results/history.js';
import type { HistoryGateSpec, PerfGateSpec } from '../types.js';
import { benchKeyForMetricName } from '../parsers/metric-names.js';
import { metricDirection, metricUnit, type Direction } from './direction.js';
import {
  describeChange,
  describeJudgement,
  formatValue,
  HISTORY_GATE_DEFAULTS,
  judge,
  selectBaseline,
  subjectText,
} from './regression.js';
import { ConfigError } from '../errors.js';

// The gate's YAML shape lives with the config types; re-exported for callers of this module.
export type { HistoryGateSpec, PerfGateSpec };

export type GateKind = 'limit' | 'reference' | 'history';

export interface GateResult {
  kind: GateKind;
  metric: string;
  concurrency: number;
  value: number | null;
  /** What the value was judged against: the limit, the reference, or the baseline median of history. */
  bound?: number;
  /** null: no verdict (too few history runs). */
  passed: boolean | null;
  message: string;
  /** Relative change for the worse against the reference/baseline (negative = better), when known. */
  worsening?: number | null;
  /** worsening − allowed: how close to failing (> 0 failed), for picking the worst. */
  margin?: number;
  /** History checks with a verdict: the change in words, without the verdict (ungated tests print it). */
  change?: string;
  /** (value − bound) / bound, when both are known and the bound is not 0. */
  relativeChange?: number;
  /** 0-based index of the gate in its list, for pointing at its YAML entry. */
  gate?: number;
}

/** Measured values of one run: concurrency (string key) → metric → value, as history records hold them. */
export type RunMetrics = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface GateProblem {
  /** Path inside the gate, e.g. `tolerance`, `history.runs`. */
  path: string;
  message: string;
}

export const DEFAULT_GATE_TOLERANCE = 0.05;

const isFraction = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1;
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function directionOf(gate: PerfGateSpec): Direction {
  if (gate.higher_is_better !== undefined) return gate.higher_is_better ? 'higher' : 'lower';
  return metricDirection(gate.metric);
}

/** What is wrong with a gate, each with its path and what to do; empty when it can be evaluated. */
export function gateProblems(gate: PerfGateSpec): GateProblem[] {
  const problems: GateProblem[] = [];
  const add = (p: string, message: string): void => void problems.push({ path: p, message });
  if (typeof gate.metric !== 'string' || gate.metric === '') {
    add('metric', 'a gate needs a metric (a key of `disagg parse bench --json`, e.g. p99_ttft_ms)');
    return problems;
  }
  if (gate.limit === undefined && gate.reference === undefined && !gate.history) {
    add('', `the gate on ${gate.metric} checks nothing: give limit, reference and/or history`);
  }
  const cons = gate.concurrency === undefined ? [] : [gate.concurrency].flat();
  for (const c of cons) if (!isCount(c) || c === 0) add('concurrency', `${String(c)} is not a concurrency`);
  if (gate.limit !== undefined && !Number.isFinite(gate.limit)) add('limit', 'must be a number');
  if (gate.reference !== undefined && !Number.isFinite(gate.reference)) add('reference', 'must be a number');
  if (gate.tolerance !== undefined && !isFraction(gate.tolerance))
    add('tolerance', `must be a fraction from 0 to below 1 (0.05 = 5 %), got ${String(gate.tolerance)}`);
  if (typeof gate.history === 'object') {
    const h = gate.history;
    if (h.runs !== undefined && !isCount(h.runs)) add('history.runs', 'must be a whole number ≥ 0 (0 = all)');
    if (h.min_runs !== undefined && !isCount(h.min_runs))
      add('history.min_runs', 'must be a whole number ≥ 0');
    if (h.tolerance !== undefined && !isFraction(h.tolerance))
      add('history.tolerance', `must be a fraction from 0 to below 1 (0.05 = 5 %)`);
    if (h.noise_k !== undefined && !(Number.isFinite(h.noise_k) && h.noise_k >= 0))
      add('history.noise_k', 'must be a number ≥ 0');
  }
  const needsDirection = gate.limit !== undefined || gate.reference !== undefined || Boolean(gate.history);
  if (needsDirection && directionOf(gate) === 'unknown') {
    add(
      'higher_is_better',
      `whether more or less ${gate.metric} is better is not known from its name: set higher_is_better: true or false`,
    );
  }
  return problems;
}

/** A run's value of a metric: the name verbatim, else the original's CSV name mapped to its bench key. */
function valueOf(values: Readonly<Record<string, number>> | undefined, metric: string): number | undefined {
  if (!values) return undefined;
  if (values[metric] !== undefined) return values[metric];
  const key = benchKeyForMetricName(metric);
  return key === undefined ? undefined : values[key];
}

function judgeLimit(gate: PerfGateSpec, limit: number, con: number, value: number): GateResult {
  const lower = directionOf(gate) === 'lower';
  const unit = metricUnit(gate.metric);
  const passed = lower ? value <= limit : value >= limit;
  const bound = `${lower ? 'at most' : 'at least'} ${formatValue(limit, unit)}`;
  const how = passed ? 'is within the limit of' : lower ? 'is above the limit of' : 'is below the limit of';
  return {
    kind: 'limit',
    metric: gate.metric,
    concurrency: con,
    value,
    bound: limit,
    passed,
    message:
      `${subjectText({ metric: gate.metric, concurrency: con })}: ${formatValue(value, unit)} ${how} ` +
      `${bound} → ${passed ? 'PASSED' : 'FAILED'}`,
  };
}

function judgeReference(gate: PerfGateSpec, reference: number, con: number, value: number): GateResult {
  const tolerance = gate.tolerance ?? DEFAULT_GATE_TOLERANCE;
  const j = judge([reference], value, directionOf(gate), { tolerance, noiseK: 0, minRuns: 1 });
  return {
    kind: 'reference',
    metric: gate.metric,
    concurrency: con,
    value,
    bound: reference,
    passed: j.verdict !== 'regressed',
    message: describeJudgement({ metric: gate.metric, concurrency: con }, j, { against: 'reference' }),
    worsening: j.worsening,
    margin: j.margin,
  };
}

function judgeHistory(
  gate: PerfGateSpec,
  history: readonly HistoryRecord[],
  con: number,
  value: number,
): GateResult {
  const spec = typeof gate.history === 'object' ? gate.history : {};
  const settings = {
    tolerance: spec.tolerance ?? gate.tolerance ?? HISTORY_GATE_DEFAULTS.tolerance,
    noiseK: spec.noise_k ?? HISTORY_GATE_DEFAULTS.noiseK,
    minRuns: spec.min_runs ?? HISTORY_GATE_DEFAULTS.minRuns,
  };
  const candidates = history.flatMap((r) => {
    const v = valueOf(r.metrics[String(con)], gate.metric);
    const t = Date.parse(r.endTime);
    return v === undefined ? [] : [{ value: v, endTime: Number.isNaN(t) ? null : t, passed: r.passed }];
  });
  const runs = selectBaseline(candidates, spec.runs ?? HISTORY_GATE_DEFAULTS.runs);
  const subject = { metric: gate.metric, concurrency: con };
  const base = { kind: 'history' as const, metric: gate.metric, concurrency: con, value };
  if (runs.length === 0) {
    return {
      ...base,
      passed: null,
      message:
        `${subjectText(subject)}: ${formatValue(value, metricUnit(gate.metric))}; no verdict: no earlier ` +
        `passed run has this value, ${settings.minRuns} needed`,
    };
  }
  const j = judge(
    runs.map((r) => r.value),
    value,
    directionOf(gate),
    settings,
  );
  const verdict = j.verdict === 'insufficient' ? null : j.verdict !== 'regressed';
  return {
    ...base,
    bound: j.baseline,
    passed: verdict,
    message: describeJudgement(subject, j, { minRuns: settings.minRuns }),
    worsening: j.worsening,
    margin: j.margin,
    ...(verdict === null ? {} : { change: describeChange(subject, j) }),
    ...(j.delta === null ? {} : { relativeChange: j.delta }),
  };
}

/**
 * Every check of one gate at every concurrency it covers. A covered concurrency that was not measured,
 * or lacks the metric, fails naming what was there. Throws when the gate itself is invalid
 * (see gateProblems).
 */
export function evaluateGate(
  gate: PerfGateSpec,
  measured: RunMetrics,
  history: readonly HistoryRecord[] = [],
): GateResult[] {
  const problems = gateProblems(gate);
  if (problems.length > 0) {
    throw new ConfigError(
      `invalid perf gate on ${gate.metric || '(no metric)'}: ` +
        problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`).join('; '),
    );
  }
  const measuredCons = Object.keys(measured)
    .map(Number)
    .sort((a, b) => a - b);
  const cons = gate.concurrency === undefined ? measuredCons : [gate.concurrency].flat();
  const kinds: GateKind[] = [
    ...(gate.limit !== undefined ? (['limit'] as const) : []),
    ...(gate.reference !== undefined ? (['reference'] as const) : []),
    ...(gate.history ? (['history'] as const) : []),
  ];
  const results: GateResult[] = [];
  for (const con of cons) {
    const values = measured[String(con)];
    const value = valueOf(values, gate.metric);
    if (value === undefined) {
      const why = values
        ? `not measured (metrics there: ${Object.keys(values).join(', ') || 'none'})`
        : `concurrency ${con} was not measured (measured: ${measuredCons.join(', ') || 'none'})`;
      for (const kind of kinds) {
        results.push({
          kind,
          metric: gate.metric,
          concurrency: con,
          value: null,
          passed: false,
          message: `${subjectText({ metric: gate.metric, concurrency: con })}: ${why} → FAILED`,
        });
      }
      continue;
    }
    if (gate.limit !== undefined) results.push(judgeLimit(gate, gate.limit, con, value));
    if (gate.reference !== undefined) results.push(judgeReference(gate, gate.reference, con, value));
    if (gate.history) results.push(judgeHistory(gate, history, con, value));
  }
  return results;
}

/**
 * All gates of a test; results in gate order, then concurrency order. `history`: the same test's
 * earlier runs (not the one being judged), any order.
 */
export function evaluateGates(
  gates: readonly PerfGateSpec[],
  measured: RunMetrics,
  history: readonly HistoryRecord[] = [],
): GateResult[] {
  return gates.flatMap((g, i) => evaluateGate(g, measured, history).map((r) => ({ ...r, gate: i })));
}
