// A metric key as a person reads it on an axis: `median_ttft_ms` → `median TTFT (ms)`,
// `output_throughput` → `output throughput (tok/s)`, `goodput` → `goodput (req/s)`.
import { metricUnit } from '../stats/direction.js';

const ACRONYMS = new Set(['ttft', 'tpot', 'itl', 'e2el', 'slo', 'gpu']);

export function metricLabel(metric: string): string {
  const unit = metricUnit(metric);
  const words = metric
    .replace(/_(ms|s)$/i, '')
    .split(/_+/)
    .filter((w) => w !== '')
    .map((w) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : w.toLowerCase()));
  return `${words.join(' ')}${unit ? ` (${unit})` : ''}`;
}
