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
import type { DatasetVerdict, DisaggConfig } from '../../../src/types.js';
import { VERDICT_YAML } from './verdict-yaml.js';

function verdict(dataset: string, passed: boolean, warnings: string[] = []): DatasetVerdict {
  const observed = passed ? 0.9 : 0.5;
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
    message:
      `${dataset}: ${passed ? 'PASSED' : 'FAILED'}: observed ${observed} ${passed ? 'is at or above' : 'is below'} ` +
      `the threshold 0.65; the long explanation.` +
      (warnings.length ? ` Warning: ${warnings.join('; ')}.` : ''),
    warnings,
  };
}

function accuracy(verdicts: DatasetVerdict[]): AccuracyResult {
  return { logs: [], runs: [], verdicts, summary: { logs: [], verdicts } };
}

function setup() {
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
  return { printed, annotations, report: createReport(annotate, task) };
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
    const { printed, report } = setup();
    await report.accuracy(accuracy([verdict('gsm8k', true)]));
    expect(printed).toEqual(['[vitest-disagg] t1: accuracy gsm8k PASSED: 90.00% ≥ threshold 65.00%']);
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
    expect(verdictLines({ config: {} })).toEqual({ accuracy: new Map() });
    const { report } = setup();
    await expect(report.accuracy(accuracy([verdict('mmlu', false)]))).rejects.toThrow(/mmlu: FAILED/);
  });
});
