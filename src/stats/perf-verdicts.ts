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
import { ConfigError } from '../errors.js';

/** Metrics whose change against history is printed for a test without gates. */
export const DELTA_METRICS = ['output_throughput', 'median_ttft_ms', 'median_tpot_ms'] as const;

export interface RunVerdicts {
  gates: GateResult[];
  /** Only without gates: informational history comparisons. */
  deltas: GateResult[];
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

export function judgeRun(
  gates: readonly PerfGateSpec[],
  measured: RunMetrics,
  baseline: readonly HistoryRecord[],
): RunVerdicts {
  const gateResults = evaluateGates(gates, measured, baseline);
  const deltas =
    gates.length > 0
      ? []
      : DELTA_METRICS.filter((m) => everywhere(measured, m)).flatMap((metric) =>
          evaluateGate({ metric, history: { min_runs: 1 } }, measured, baseline)
            .filter((r) => r.margin !== undefined)
            .map((r) => ({ ...r, message: `${r.message} (no gate: not failing the test)` })),
        );
  const ranked = [...gateResults, ...deltas].filter((r) => r.margin !== undefined);
  ranked.sort((a, b) => (b.margin ?? 0) - (a.margin ?? 0));
  const failed = gateResults.find((r) => r.passed === false && r.margin === undefined);
  return { gates: gateResults, deltas, worst: failed?.message ?? ranked[0]?.message };
}
