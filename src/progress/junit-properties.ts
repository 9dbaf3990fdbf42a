import type { DisaggMeta, PerfVerdict } from '../types.js';

// What a disagg test's JUnit `<properties>` carry, from its `meta.disagg` at the end of the run (after an
// `_ERROR` rename, so the log dir named is the one that exists): the job, its state, the logs, every
// perf metric per concurrency, each perf gate verdict, and each accuracy value with its threshold.

export interface JUnitProperty {
  name: string;
  value: string;
}

/** What a gate kind judged against, as the property's name says it. */
const BOUND_NAME: Record<string, string> = { limit: 'limit', reference: 'reference', history: 'baseline' };

function verdictWord(passed: boolean | null): string {
  return passed === null ? 'none' : passed ? 'passed' : 'failed';
}

/**
 * One gate check as `disagg.gate.<metric>.con<N>.<kind>.{value,limit|reference|baseline,verdict,message}`
 * (a check repeated by two gates on the same metric gets `#2`…), so CI dashboards can read them.
 */
function gateProperties(gates: readonly PerfVerdict[], add: (name: string, value: string | number) => void) {
  const seen = new Map<string, number>();
  for (const g of gates) {
    const stem = `gate.${g.metric}.${g.concurrency === null ? 'all' : `con${g.concurrency}`}.${g.kind}`;
    const n = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, n);
    const key = n > 1 ? `${stem}#${n}` : stem;
    add(`${key}.value`, g.value === null || g.value === undefined ? 'not measured' : g.value);
    if (g.bound !== undefined) add(`${key}.${BOUND_NAME[g.kind] ?? 'bound'}`, g.bound);
    add(`${key}.verdict`, verdictWord(g.passed));
    add(`${key}.message`, g.message);
  }
}

export function disaggProperties(meta: Partial<DisaggMeta>): JUnitProperty[] {
  const props: JUnitProperty[] = [];
  const add = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== '') props.push({ name: `disagg.${name}`, value: String(value) });
  };
  add('testId', meta.testId);
  add('jobId', meta.jobId);
  add('state', meta.jobState ?? meta.live?.state);
  add('reason', meta.jobReason ?? meta.live?.reason);
  add('nodes', meta.live?.nodes);
  add('logDir', meta.logDir);
  if (meta.perf) {
    add('perf.csv', meta.perf.csv);
    add('perf.concurrencies', meta.perf.concurrencies.join(','));
    // The objectives behind perf.con<N>.goodput / slo_attainment: disagg.perf.slo.ttft_ms, …
    for (const [k, v] of Object.entries(meta.perf.slo ?? {})) add(`perf.slo.${k}`, v);
    for (const [con, metrics] of Object.entries(meta.perf.metrics)) {
      for (const [name, value] of Object.entries(metrics)) add(`perf.con${con}.${name}`, value);
    }
    gateProperties(meta.perf.gates ?? [], add);
  }
  const seen = new Map<string, number>();
  for (const v of meta.accuracy?.verdicts ?? []) {
    // Several runs of one dataset in the log: `gsm8k`, `gsm8k#2`…
    const n = (seen.get(v.dataset) ?? 0) + 1;
    seen.set(v.dataset, n);
    const key = `accuracy.${n > 1 ? `${v.dataset}#${n}` : v.dataset}`;
    add(`${key}.value`, v.observed);
    add(`${key}.threshold`, v.threshold);
    add(`${key}.passed`, v.passed);
  }
  return props;
}
