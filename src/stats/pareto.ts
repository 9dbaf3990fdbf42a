// The Pareto frontier of throughput per GPU against throughput per user (the InferenceMAX view): the
// points no other point beats on both at once. Both are "higher is better". Pure.

export interface ParetoPoint {
  /** Tokens/s per user (x). */
  perUser: number;
  /** Tokens/s per GPU (y). */
  perGpu: number;
}

/** True when `q` is at least as good as `p` on both and strictly better on one. */
function dominates(q: ParetoPoint, p: ParetoPoint): boolean {
  return q.perUser >= p.perUser && q.perGpu >= p.perGpu && (q.perUser > p.perUser || q.perGpu > p.perGpu);
}

/**
 * The non-dominated points, by per-user rate ascending (so per-GPU throughput descending). Equal points
 * are all kept (neither beats the other: two configs that tie are both on the frontier). Points with a
 * value that is not a finite number are left out.
 */
export function paretoFrontier<T extends ParetoPoint>(points: readonly T[]): T[] {
  const valid = points.filter((p) => Number.isFinite(p.perUser) && Number.isFinite(p.perGpu));
  // Quadratic, and plain: a report has at most a few thousand points.
  return valid
    .filter((p) => !valid.some((q) => dominates(q, p)))
    .sort((a, b) => a.perUser - b.perUser || b.perGpu - a.perGpu);
}
