// The verdict steps of a test body (fixtures/steps/report.ts): each verdict is printed once as one short
// line, a failure is one Error whose message is the verdict (no `expect` boilerplate), thrown from the
// YAML location the generated module hands over.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestContext } from 'vitest';
import {
  createReport,
  verdictLines,
  type FailAt,
  type VerdictLocations,
  type VerdictSource,
} from '../../../fixtures/steps/report.js';
import { parseYaml } from '../../../src/config/index.js';
import type { AccuracyResult } from '../../../fixtures/steps/accuracy-step.js';
import type { PerfResult } from '../../../fixtures/steps/perf-step.js';
import type { DatasetVerdict, DisaggConfig, PerfVerdict } from '../../../src/types.js';
import { VERDICT_YAML } from './verdict-yaml.js';

function verdict(dataset: string, passed: boolean, warnings: string[] = []): DatasetVerdict {
  const observed = passed ? 0.9 : 0.5;
  const headline =
    `${dataset}: ${passed ? 'PASSED' : 'FAILED'}: observed ${observed} ${passed ? 'is at or above' : 'is below'} ` +
    `the threshold 0.65`;
  return {
    dataset,
    filter: 'flexible-extract',
    metric: 'exact_match',
    passed,
    observed,
    expected: 0.8,
    threshold: 0.65,
    thresholdType: 'hypothesis_test',
    higherIsBetter: true,
    headline,
    message:
      `${headline}; the long explanation.` + (warnings.length ? ` Warning: ${warnings.join('; ')}.` : ''),
    warnings,
  };
}

function accuracy(verdicts: DatasetVerdict[]): AccuracyResult {
  return { logs: [], runs: [], verdicts, summary: { logs: [], verdicts } };
}

function setup(options: { verbose?: boolean } = {}) {
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void printed.push(s));
  vi.spyOn(console, 'warn').mockImplementation((s: string) => void printed.push(s));
  const annotations: Array<[string, string | undefined]> = [];
  const annotate = (async (message: string, type?: string) => {
    annotations.push([message, type]);
  }) as unknown as TestContext['annotate'];
  const task = {
    name: 't1',
    meta: { disagg: { logDir: '/o/t1', failureLogDir: '/o/t1_ERROR' } },
  } as unknown as TestContext['task'];
  return { printed, annotations, task, report: createReport(annotate, task, options) };
}

/** What a generated test passes: the parsed config (mmlu's expected_value on line 8) and a module loader. */
function source(at: VerdictLocations): VerdictSource {
  const parsed = parseYaml(VERDICT_YAML, 'x.yaml');
  return { config: { config: parsed.value as DisaggConfig, locate: parsed.locate }, load: async () => at };
}

afterEach(() => vi.restoreAllMocks());

describe('accuracy verdicts', () => {
  it('prints one line per dataset, the theta warning once, and throws the failed verdict once', async () => {
    const { printed, annotations, report } = setup();
    const theta = 'theta is 0.2270: this gate cannot detect a real regression smaller than 0.2270';
    const calls: string[] = [];
    const atMmlu: FailAt = (message) => {
      calls.push(message);
      throw new Error(message);
    };
    const wrongLine: FailAt = () => {
      throw new Error('thrown from the wrong YAML line');
    };
    const err = await report
      .accuracy(
        accuracy([verdict('gsm8k', true, [theta]), verdict('mmlu', false, [theta])]),
        source({ lines: { 5: wrongLine, 8: atMmlu }, test: wrongLine }),
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(printed).toEqual(
      [
        't1: accuracy gsm8k PASSED: 90.00% ≥ threshold 65.00% — weak gate (theta warning, see the report)',
        't1: accuracy mmlu FAILED: 50.00% < threshold 65.00% — weak gate (theta warning, see the report)',
      ].map((l) => `[vitest-disagg] ${l}`),
    );
    // Thrown from the failing dataset's YAML location, once, with the verdict and the _ERROR logs.
    expect(calls).toHaveLength(1);
    expect(err?.message).toBe(`accuracy ${verdict('mmlu', false, [theta]).message}\nlogs: /o/t1_ERROR`);
    expect(err?.message.match(/theta is/g)).toHaveLength(1);
    expect(err?.message).not.toMatch(/expected .* to be|Object\.is/);
    // The failed verdict is the error, not an annotation as well.
    expect(annotations.map(([, type]) => type)).toEqual(['disagg:accuracy']);
  });

  it('passes quietly when every dataset passed', async () => {
    const { printed, report, task } = setup();
    await report.accuracy(accuracy([verdict('gsm8k', true)]));
    expect(printed).toEqual(['[vitest-disagg] t1: accuracy gsm8k PASSED: 90.00% ≥ threshold 65.00%']);
    expect(task.meta.disagg?.failureReason).toBeUndefined();
  });

  it("records the summary's reason as data: the first failed verdict's headline and how many more", async () => {
    const { report, task } = setup();
    const failed = [verdict('gsm8k', true), verdict('mmlu', false), verdict('arc', false)];
    await expect(report.accuracy(accuracy(failed))).rejects.toThrow(/mmlu: FAILED/);
    expect(task.meta.disagg?.failureReason).toBe(
      'accuracy mmlu: FAILED: observed 0.5 is below the threshold 0.65 (and 1 more)',
    );
    const one = setup();
    await expect(one.report.accuracy(accuracy([verdict('mmlu', false)]))).rejects.toThrow();
    expect(one.task.meta.disagg?.failureReason).toBe(`accuracy ${verdict('mmlu', false).headline}`);
  });

  it('no dataset judged: the reason says so, without the logs the message adds', async () => {
    const { report, task } = setup();
    await expect(report.accuracy(accuracy([]))).rejects.toThrow(
      'accuracy FAILED: no accuracy dataset was judged (metadata.accuracy.datasets is empty); logs: /o/t1_ERROR',
    );
    expect(task.meta.disagg?.failureReason).toBe(
      'accuracy FAILED: no accuracy dataset was judged (metadata.accuracy.datasets is empty)',
    );
  });
});

describe('where a failed verdict points', () => {
  it("finds the perf gate's concurrency_list and each dataset's expected_value line", () => {
    const parsed = parseYaml(VERDICT_YAML, 'x.yaml');
    const lines = verdictLines({ config: parsed.value as DisaggConfig, locate: parsed.locate });
    expect(lines.perf).toBe(10);
    expect([...lines.accuracy]).toEqual([
      ['gsm8k', 5],
      ['mmlu', 8],
    ]);
  });

  it("a line the generated module has no thrower for falls back to the test's own line", async () => {
    const { report } = setup();
    const calls: string[] = [];
    const atTest: FailAt = (message) => {
      calls.push(message);
      throw new Error(message);
    };
    await expect(
      report.accuracy(accuracy([verdict('mmlu', false)]), source({ lines: {}, test: atTest })),
    ).rejects.toThrow(/mmlu: FAILED/);
    expect(calls).toHaveLength(1);
  });

  it('a config built in memory (no positions) still fails with its verdict', async () => {
    expect(verdictLines({ config: {} })).toEqual({ accuracy: new Map(), gates: [] });
    const { report } = setup();
    await expect(report.accuracy(accuracy([verdict('mmlu', false)]))).rejects.toThrow(/mmlu: FAILED/);
  });
});

/** A perf result of one concurrency with these gate checks or deltas (only what the perf step reads). */
function perf(summary: { gates?: PerfVerdict[]; deltas?: PerfVerdict[]; delta?: string }): PerfResult {
  return {
    blocks: [],
    missing: [],
    csvFile: 'p.csv',
    rowsWritten: 1,
    warnings: [],
    gates: [],
    deltas: [],
    recorded: true,
    summary: {
      concurrencies: [4],
      rows: 1,
      csv: 'p.csv',
      incomplete: [],
      failedRequests: 0,
      metrics: {},
      ...summary,
    },
  };
}

const change = (metric: string, pct: number): PerfVerdict => ({
  kind: 'delta',
  metric,
  concurrency: 4,
  passed: null,
  message: `${metric} at concurrency 4: is ${pct} % above the baseline`,
});

describe('perf against history without gates', () => {
  const deltas = [change('output_throughput', 1), change('median_ttft_ms', 40), change('median_tpot_ms', 2)];
  const delta = `${deltas[1].message} (largest of 3 changes against history; no gate, informational)`;

  it('prints one line per test (the largest change) and annotates it once', async () => {
    const { printed, annotations, report } = setup();
    await report.perf(perf({ deltas, delta }));
    const history = printed.filter((l) => l.includes('perf vs history'));
    expect(history).toEqual([`[vitest-disagg] t1: perf vs history: ${delta}`]);
    expect(printed.join('\n')).not.toContain('FAILED');
    expect(annotations.filter(([, t]) => t === 'disagg:perf-delta')).toEqual([[delta, 'disagg:perf-delta']]);
  });

  it('verbose output prints every change', async () => {
    const { printed, report } = setup({ verbose: true });
    await report.perf(perf({ deltas, delta }));
    expect(printed.filter((l) => l.includes('perf vs history'))).toEqual(
      deltas.map((d) => `[vitest-disagg] t1: perf vs history: ${d.message}`),
    );
  });

  it('prints nothing about history when there was no baseline of enough runs', async () => {
    const { printed, annotations, report } = setup();
    await report.perf(perf({}));
    expect(printed.filter((l) => l.includes('history'))).toEqual([]);
    expect(annotations.map(([, t]) => t)).toEqual(['disagg:perf']);
  });
});

describe('a failed perf gate points at its entry of the YAML', () => {
  const yaml = [
    'benchmark:', //                      1
    '  concurrency_list: "4"', //         2
    'gates:', //                          3
    '  - metric: output_throughput', //   4
    '    limit: 1', //                    5
    '  - metric: median_ttft_ms', //      6
    '    limit: 50', //                   7
    '',
  ].join('\n');
  const parsed = parseYaml(yaml, 'g.yaml');
  const gate = (i: number, passed: boolean): PerfVerdict => ({
    kind: 'limit',
    metric: i === 0 ? 'output_throughput' : 'median_ttft_ms',
    concurrency: 4,
    passed,
    message: `gate ${i} ${passed ? 'PASSED' : 'FAILED'}`,
    gate: i,
  });
  const throwers = (calls: number[]): VerdictLocations => ({
    lines: Object.fromEntries(
      [2, 4, 5, 6, 7].map((line): [number, FailAt] => [
        line,
        (message) => {
          calls.push(line);
          throw new Error(message);
        },
      ]),
    ),
    test: () => {
      throw new Error('thrown from the first key');
    },
  });

  it('finds each gate entry of the parsed config', () => {
    const lines = verdictLines({ config: parsed.value as DisaggConfig, locate: parsed.locate });
    expect(lines.gates).toEqual([4, 6]);
    expect(lines.perf).toBe(2);
  });

  it('throws from the failed gate’s line, the benchmark’s line when the benchmark itself failed', async () => {
    const { report } = setup();
    const at = (calls: number[]): VerdictSource => ({
      config: { config: parsed.value as DisaggConfig, locate: parsed.locate },
      load: async () => throwers(calls),
    });
    const calls: number[] = [];
    await expect(report.perf(perf({ gates: [gate(0, true), gate(1, false)] }), at(calls))).rejects.toThrow(
      /perf FAILED: gate 1 FAILED/,
    );
    expect(calls).toEqual([6]);
    const crashed = perf({ gates: [gate(0, true), gate(1, false)] });
    crashed.summary.incomplete = [8];
    await expect(report.perf(crashed, at(calls))).rejects.toThrow(/did not finish concurrency 8/);
    expect(calls).toEqual([6, 2]);
  });
});
