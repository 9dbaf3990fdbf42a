// The suite's Pareto view: per workload (model · ISL/OSL), one point per test × concurrency of output
// tokens/s per GPU against tokens/s per user, and the frontier (src/stats/pareto.ts) with its configs.
import { paretoFrontier } from '../stats/pareto.js';
import type { PerfPoint, ReportTest } from './model.js';

export interface ParetoRow {
  testId: string;
  /** The test's status: a failed config (accuracy, a gate) can still sit on the frontier; the table says so. */
  status: ReportTest['status'];
  concurrency: number;
  perUser: number;
  /** Per GPU when every test of the workload has a GPU count, else total output tokens/s. */
  perGpu: number;
  frontier: boolean;
}

export interface ParetoGroup {
  workload: string;
  /** False when a test of the workload has no GPU count: the y axis is then total output tokens/s. */
  perGpu: boolean;
  /** True when a value was estimated from median TTFT and E2EL (a perf CSV without throughputs). */
  estimated: boolean;
  points: ParetoRow[];
  frontier: ParetoRow[];
}

/** Output length of a workload label (`… · 1k/8k` → 8192), for estimates from a CSV. */
export function outputLengthOf(workload: string | undefined): number | undefined {
  const m = /(\d+)(k?)\/(\d+)(k?)$/.exec(workload ?? '');
  return m ? Number(m[3]) * (m[4] ? 1024 : 1) : undefined;
}

function rates(p: PerfPoint): { tput?: number; perUser?: number; estimated: boolean } {
  const m = p.metrics;
  const tpot = m.median_tpot_ms ?? m.est_median_tpot_ms;
  const tput = m.output_throughput ?? m.est_output_throughput;
  const perUser = tpot
    ? 1000 / tpot
    : tput !== undefined && p.concurrency > 0
      ? tput / p.concurrency
      : undefined;
  const estimated =
    (m.output_throughput === undefined && m.est_output_throughput !== undefined) ||
    (m.median_tpot_ms === undefined && m.est_median_tpot_ms !== undefined);
  return { tput, perUser, estimated };
}

/** One group per workload with at least one point, in name order. */
export function paretoGroups(tests: readonly ReportTest[]): ParetoGroup[] {
  const byWorkload = new Map<string, ReportTest[]>();
  for (const t of tests) {
    if (!t.workload || !t.perf.some((p) => p.completed)) continue;
    byWorkload.set(t.workload, [...(byWorkload.get(t.workload) ?? []), t]);
  }
  const groups: ParetoGroup[] = [];
  for (const [workload, members] of [...byWorkload].sort(([a], [b]) => a.localeCompare(b))) {
    const perGpu = members.every((t) => t.gpus !== undefined && t.gpus > 0);
    let estimated = false;
    const points: ParetoRow[] = [];
    for (const t of members) {
      for (const p of t.perf) {
        if (!p.completed) continue;
        const r = rates(p);
        if (r.tput === undefined || r.perUser === undefined) continue;
        estimated ||= r.estimated;
        points.push({
          testId: t.testId,
          status: t.status,
          concurrency: p.concurrency,
          perUser: r.perUser,
          perGpu: perGpu ? r.tput / (t.gpus as number) : r.tput,
          frontier: false,
        });
      }
    }
    if (!points.length) continue;
    const frontier = paretoFrontier(points);
    for (const f of frontier) f.frontier = true;
    groups.push({ workload, perGpu, estimated, points, frontier });
  }
  return groups;
}
