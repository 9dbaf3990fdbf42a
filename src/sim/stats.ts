// numpy-compatible summary statistics (benchmark_serving uses np.mean / np.median / np.std / np.percentile).

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation (np.std default ddof=0). */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

/** np.percentile with linear interpolation; `p` in 0..100. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export interface Summary {
  mean: number;
  median: number;
  std: number;
  p99: number;
}

/** mean, median, std and p99 as numpy computes them, sorting once (ITL arrays hold millions of values). */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { mean: 0, median: 0, std: 0, p99: 0 };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  const m = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += ((sorted[i] as number) - m) ** 2;
  const at = (p: number): number => {
    const pos = ((n - 1) * p) / 100;
    const lo = Math.floor(pos);
    const a = sorted[lo] as number;
    const b = sorted[Math.ceil(pos)] as number;
    return a + (b - a) * (pos - lo);
  };
  return { mean: m, median: at(50), std: Math.sqrt(sq / n), p99: at(99) };
}
