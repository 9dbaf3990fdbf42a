// The perf verdicts of one run: its gates (which can fail the test) or, without gates, its changes
// against history in words (which never fail it), and the worst of them for the closing summary.
import {
  evaluateGate,
  evaluateGates,
  gateProblems,
  type GateResult,
  type PerfGateSpec,
  type RunMetrics,
} from './gates.js';
import type { HistoryRecord } from '../results/history.js';
import { HISTORY_GATE_DEFAULTS } from './regression.js';
import { ConfigError } from '../errors.js';

/** Metrics whose change against history is printed for a test without gates. */
export const DELTA_METRICS = ['output_throughput', 'median_ttft_ms', 'median_tpot_ms'] as const;

export interface RunVerdicts {
  gates: GateResult[];
  /**
   * Only without gates: every delta metric × concurrency against a baseline of at least
   * `HISTORY_GATE_DEFAULTS.minRuns` earlier runs, worded as a change (`message`), never as a verdict.
   * Informational: the results file, the report and verbose output show them all.
   */
  deltas: GateResult[];
  /** Only without gates, when a delta exists: the one line printed per test, its largest change. */
  delta?: string;
  /** The check closest to failing (or furthest past it), in words. */
  worst?: string;
}

/** Metrics measured at every concurrency of the run: only those can be compared without failing on gaps. */
function everywhere(measured: RunMetrics, metric: string): boolean {
  const values = Object.values(measured);
  return values.length > 0 && values.every((v) => v[metric] !== undefined);
}

/**
 * Throws on the first invalid gate, naming where it was written and its path, e.g.
 * `configs/x.yaml: gates[1].tolerance: must be a fraction …`. `where`: the YAML file or the option.
 */
export function checkGates(gates: readonly PerfGateSpec[], where: string): void {
  gates.forEach((gate, i) => {
    const problems = gateProblems(gate);
    if (problems.length > 0) {
      throw new ConfigError(
        problems.map((p) => `${where}: gates[${i}]${p.path ? `.${p.path}` : ''}: ${p.message}`).join('\n'),
      );
    }
  });
}

/** The larger relative change wins; a change from 0 (no relative change) counts as none. */
function size(r: GateResult): number {
  return Math.abs(r.relativeChange ?? 0);
}

/** `<change> (largest of 6 changes against history; no gate, informational)`: an ungated test's one line. */
export function deltaLine(deltas: readonly GateResult[]): string | undefined {
  if (!deltas.length) return undefined;
  const largest = deltas.reduce((a, b) => (size(b) > size(a) ? b : a));
  const of = deltas.length > 1 ? `largest of ${deltas.length} changes` : 'the one change';
  return `${largest.message} (${of} against history; no gate, informational)`;
}

export function judgeRun(
  gates: readonly PerfGateSpec[],
  measured: RunMetrics,
  baseline: readonly HistoryRecord[],
): RunVerdicts {
  const gateResults = evaluateGates(gates, measured, baseline);
  // Without gates, changes against history inform and never fail: only against a baseline of as many
  // runs as a history gate needs (one earlier run says nothing of noise), and in words without a verdict.
  const deltas =
    gates.length > 0
      ? []
      : DELTA_METRICS.filter((m) => everywhere(measured, m)).flatMap((metric) =>
          evaluateGate({ metric, history: { min_runs: HISTORY_GATE_DEFAULTS.minRuns } }, measured, baseline)
            .filter((r) => r.passed !== null && r.change !== undefined)
            .map((r) => ({ ...r, passed: null, message: r.change ?? r.message })),
        );
  const delta = deltaLine(deltas);
  const ranked = gateResults.filter((r) => r.margin !== undefined);
  ranked.sort((a, b) => (b.margin ?? 0) - (a.margin ?? 0));
  const failed = gateResults.find((r) => r.passed === false && r.margin === undefined);
  return {
    gates: gateResults,
    deltas,
    ...(delta ? { delta } : {}),
    worst: failed?.message ?? ranked[0]?.message ?? delta,
  };
}
