import { describe, expect, it } from 'vitest';
import { parseAccuracyLog } from '../../../src/parsers/accuracy.js';
import { judgeAccuracy } from '../../../src/stats/verdict.js';
import type { AccuracyResultRow, AccuracyRun } from '../../../src/types.js';
import { fixtureLog, fixturePath } from '../../fixtures/paths.js';

const row = (task: string, filter: string, metric: string, value: number): AccuracyResultRow => ({
  task,
  filter,
  metric,
  value,
  stderr: null,
  n_shot: 5,
  version: '3',
});
const gsm = (flex: number, strict: number): AccuracyRun => ({
  results: [
    row('gsm8k', 'flexible-extract', 'exact_match', flex),
    row('gsm8k', 'strict-match', 'exact_match', strict),
  ],
});

describe('judgeAccuracy: hypothesis_test', () => {
  it('the real sample passes the worked example, and the message says everything', async () => {
    const runs = await parseAccuracyLog(fixturePath('samples', 'lmeval_gsm8k_sample.txt'));
    const [v] = judgeAccuracy([{ dataset_name: 'gsm8k', expected_value: 0.9454 }], runs);
    expect(v).toMatchObject({
      dataset: 'gsm8k',
      filter: 'flexible-extract',
      metric: 'exact_match',
      passed: true,
      observed: 0.9591,
      expected: 0.9454,
      n: 1319,
      alpha: 0.05,
      beta: 0.2,
      thresholdType: 'hypothesis_test',
      higherIsBetter: true,
      run: 1,
      warnings: [],
    });
    expect(v.threshold).toBeCloseTo(0.913375, 5);
    expect(v.theta).toBeCloseTo(0.04841129, 7);
    expect(v.message).toContain('PASSED');
    expect(v.message).toContain('observed 0.9591');
    expect(v.message).toContain('threshold 0.9134');
    expect(v.message).toContain('theta=0.0484');
    expect(v.message).toContain('n=1319');
    expect(v.message).toContain('alpha=0.05');
    expect(v.message).toContain('beta=0.2');
  });

  it('fails below the threshold and says so', () => {
    const [v] = judgeAccuracy([{ name: 'gsm8k', expected_value: 0.9454 }], [gsm(0.9, 0.9)]);
    expect(v.passed).toBe(false);
    expect(v.message).toMatch(/FAILED: observed 0.9000 \(90.00%\) is below the threshold 0.9134/);
    // The headline (what the run summary shows) is the message's first clause, built with it.
    expect(v.headline).toBe(
      'gsm8k (flexible-extract, exact_match): FAILED: observed 0.9000 (90.00%) is below the threshold 0.9134 (91.34%)',
    );
    expect(v.message.startsWith(`${v.headline}; expected 0.9454; one-sided hypothesis test`)).toBe(true);
  });

  it('every kind of verdict has a one-line headline that starts its message', () => {
    const verdicts = [
      ...judgeAccuracy([{ name: 'gsm8k', expected_value: 0.9 }], [gsm(0.95, 0.9)]),
      ...judgeAccuracy([{ name: 'mmlu', expected_value: 0.9 }], [gsm(0.95, 0.9), gsm(0.9, 0.9)]),
      ...judgeAccuracy([{ name: 'gsm8k', expected_value: 0.9, metric: 'acc' }], [gsm(0.95, 0.9)]),
      ...judgeAccuracy([{ name: 'gsm8k', expected_value: 0.9 }], []),
      ...judgeAccuracy([{ name: 'gsm8k', expected_value: 0.9, threshold_type: 'nope' as 'absolute' }], []),
    ];
    const t = verdicts[0].threshold;
    expect(verdicts.map((v) => v.headline)).toEqual([
      // The threshold's arithmetic is tested above; here only where its words go.
      `gsm8k (flexible-extract, exact_match): PASSED: observed 0.9500 (95.00%) is at or above the threshold ${t.toFixed(4)} (${(t * 100).toFixed(2)}%)`,
      "mmlu, run 1 of 2: FAILED: dataset 'mmlu' not found in the accuracy log",
      "mmlu, run 2 of 2: FAILED: dataset 'mmlu' not found in the accuracy log",
      "gsm8k: FAILED: no 'flexible-extract' filter with metric 'acc' for gsm8k",
      'gsm8k: FAILED: no lm-eval result table found in the accuracy log',
      "gsm8k: FAILED: the accuracy config is unusable: unknown threshold_type 'nope' (use hypothesis_test or absolute)",
    ]);
    for (const v of verdicts) {
      expect(v.headline).not.toContain('\n');
      expect([`${v.headline}.`, `${v.headline};`]).toContain(v.message.slice(0, v.headline.length + 1));
    }
  });

  it('the sigma 0.05 trap of the original: an 85% expectation is not passed by 0.80', () => {
    const [v] = judgeAccuracy([{ expected_value: 0.85, sigma: 0.05, num_samples: 100 }], [gsm(0.8, 0.8)]);
    expect(v.threshold).toBeCloseTo(0.83836913, 7);
    expect(v.passed).toBe(false);
  });

  it('filter_type picks the strict-match row (which the original could never find)', () => {
    const [v] = judgeAccuracy([{ expected_value: 0.9, filter_type: 'strict-match' }], [gsm(0.95, 0.7)]);
    expect(v).toMatchObject({ filter: 'strict-match', observed: 0.7, passed: false });
  });

  it('lower is better flips the comparison; percent expected values are accepted', () => {
    const [ok] = judgeAccuracy([{ expected_value: 85, higher_is_better: false }], [gsm(0.86, 0)]);
    expect(ok.threshold).toBeCloseTo(0.882025, 6);
    expect(ok).toMatchObject({ passed: true, expected: 0.85, higherIsBetter: false });
    expect(ok.message).toMatch(/is at or below the threshold/);
    const [bad] = judgeAccuracy([{ expected_value: 85, higher_is_better: false }], [gsm(0.9, 0)]);
    expect(bad.passed).toBe(false);
    expect(bad.message).toMatch(/is above the threshold/);
  });

  it('warns when theta > 0.05: the gate cannot see real regressions', () => {
    const [v] = judgeAccuracy([{ expected_value: 0.85, num_samples: 100 }], [gsm(0.85, 0.85)]);
    expect(v.theta).toBeCloseTo(0.17582032, 7);
    expect(v.warnings[0]).toMatch(/cannot detect a real regression smaller than 0.1758/);
    expect(v.message).toMatch(/Warning: .*cannot detect a real regression smaller than 0.1758/);
  });

  it('every run must pass: one verdict per dataset per run', async () => {
    const runs = await parseAccuracyLog(fixtureLog('acc_gsm8k_srun_two_runs.log'));
    const verdicts = judgeAccuracy(
      [{ dataset_name: 'gsm8k', expected_value: 0.967, num_samples: 5000 }],
      runs,
    );
    expect(verdicts.map((v) => [v.run, v.observed, v.passed])).toEqual([
      [1, 0.953, true],
      [2, 0.9484, false],
    ]);
    expect(verdicts[1].message).toMatch(/^gsm8k, run 2 of 2 \(flexible-extract, exact_match\): FAILED/);
  });

  it('other tasks: first metric of the task by default, metric override, any dataset defaults', async () => {
    const runs = await parseAccuracyLog(fixtureLog('acc_multi_task.log'));
    const verdicts = judgeAccuracy(
      [
        { dataset_name: 'hellaswag', expected_value: 0.6, num_samples: 10042 },
        { dataset_name: 'hellaswag', expected_value: 0.78, metric: 'acc_norm', num_samples: 10042 },
        { dataset_name: 'humaneval', expected_value: 0.32 },
      ],
      runs,
    );
    expect(verdicts.map((v) => [v.dataset, v.filter, v.metric, v.observed, v.passed])).toEqual([
      ['hellaswag', 'none', 'acc', 0.596, true],
      ['hellaswag', 'none', 'acc_norm', 0.7766, true],
      ['humaneval', 'create_test', 'pass@1', 0.3171, true],
    ]);
    expect(verdicts[2]).toMatchObject({ alpha: 0.002, n: 164 });
    const mmlu = judgeAccuracy(
      [{ dataset_name: 'mmlu', expected_value: 0.55 }],
      await parseAccuracyLog(fixtureLog('acc_mmlu_groups.log')),
    );
    expect(mmlu[0]).toMatchObject({ metric: 'acc', filter: 'none', observed: 0.5486, passed: true, n: 4096 });
  });
});

describe('judgeAccuracy: absolute', () => {
  it('threshold = expected − tolerance (or + when lower is better)', () => {
    const [v] = judgeAccuracy(
      [{ expected_value: 0.85, threshold_type: 'absolute', tolerance: 0.05 }],
      [gsm(0.8, 0)],
    );
    expect(v).toMatchObject({ passed: true, thresholdType: 'absolute', theta: undefined, n: undefined });
    expect(v.threshold).toBeCloseTo(0.8, 12);
    expect(v.message).toMatch(/expected 0.8500 minus an allowed 0.0500/);
    const [f] = judgeAccuracy([{ expected_value: 0.85, threshold_type: 'absolute' }], [gsm(0.82, 0)]);
    expect(f.passed).toBe(false); // default tolerance 0.02
    const [low] = judgeAccuracy(
      [{ expected_value: 0.1, threshold_type: 'absolute', tolerance: 5, higher_is_better: false }],
      [gsm(0.14, 0)],
    );
    expect(low).toMatchObject({ passed: true });
    expect(low.threshold).toBeCloseTo(0.15, 12);
  });
});

describe('judgeAccuracy: missing data', () => {
  it('a missing dataset fails and names what was found', () => {
    const [v] = judgeAccuracy([{ dataset_name: 'mmlu', expected_value: 0.5 }], [gsm(0.9, 0.9)]);
    expect(v.passed).toBe(false);
    expect(v.message).toBe("mmlu: FAILED: dataset 'mmlu' not found in the accuracy log; found tasks gsm8k.");
  });

  it('a missing filter/metric fails and lists the rows found', () => {
    const [v] = judgeAccuracy([{ expected_value: 0.5, filter_type: 'custom' }], [gsm(0.9, 0.9)]);
    expect(v.message).toBe(
      "gsm8k: FAILED: no 'custom' filter with metric 'exact_match' for gsm8k; found flexible-extract/exact_match, strict-match/exact_match.",
    );
  });

  it('no table at all fails every dataset; a bad config fails with the reason', () => {
    const v = judgeAccuracy([{ expected_value: 0.5 }, { expected_value: 0.5, num_samples: 0 }], []);
    expect(v.map((x) => x.passed)).toEqual([false, false]);
    expect(v[0].message).toMatch(/no lm-eval result table found/);
    expect(v[1].message).toMatch(/config is unusable: num_samples must be > 0/);
  });
});
