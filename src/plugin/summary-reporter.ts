import type { Reporter, TestModule } from 'vitest/node';

interface DisaggMetaView {
  testId?: string;
  jobId?: string;
  jobState?: string;
  logDir?: string;
  perf?: { concurrencies?: number[]; rows?: number; csv?: string };
  accuracy?: { verdicts?: Array<{ dataset: string; passed: boolean; observed?: number; threshold: number }> };
}

function pct(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(2)}%`;
}

/**
 * One line per disagg test at the end of a run: state, job, concurrencies measured, accuracy against its
 * threshold, and where the logs are — what a person scans after a night of GPU jobs.
 */
export class DisaggSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    const csvs = new Set<string>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = (test.meta() as { disagg?: DisaggMetaView }).disagg;
        if (!meta) continue;
        const state = test.result().state;
        const perf = meta.perf?.concurrencies?.length ? `con ${meta.perf.concurrencies.join(',')}` : '';
        const acc = (meta.accuracy?.verdicts ?? [])
          .map((v) => `${v.dataset} ${pct(v.observed)} ${v.passed ? '≥' : '<'} ${pct(v.threshold)}`)
          .join('; ');
        if (meta.perf?.csv) csvs.add(meta.perf.csv);
        const job = meta.jobId ? `job ${meta.jobId} ${meta.jobState ?? ''}`.trim() : 'no job';
        lines.push(
          `  ${state.padEnd(7)} ${meta.testId ?? test.name}  ${[job, perf, acc].filter(Boolean).join(' | ')}` +
            (meta.logDir ? `\n          logs: ${meta.logDir}` : ''),
        );
      }
    }
    if (!lines.length) return;
    const out = ['', 'vitest-disagg summary', ...lines];
    for (const csv of csvs) out.push(`  perf CSV: ${csv}`);
    console.log(out.join('\n') + '\n');
  }
}

export default DisaggSummaryReporter;
