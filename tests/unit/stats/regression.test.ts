// The history-gate rule on hand-computed cases: median (odd and even n), unscaled MAD, the noise term
// from 3 runs on, both directions, the limit itself, a zero baseline and an unknown direction.
import { describe, expect, it } from 'vitest';
import { metricDirection, metricUnit } from '../../../src/stats/direction.js';
import {
  COMPARE_DEFAULTS,
  describeJudgement,
  HISTORY_GATE_DEFAULTS,
  judge,
  median,
  medianAbsoluteDeviation,
  relativeNoise,
  selectBaseline,
} from '../../../src/stats/regression.js';

const rule = { tolerance: 0.05, noiseK: 3, minRuns: 1 };

describe('median and MAD', () => {
  it('median: middle value for odd n, mean of the two middle values for even n', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('MAD is unscaled: median of |x − median|', () => {
    // median 100; |x − 100| = 0, 2, 2, 10, 10 → 2
    expect(medianAbsoluteDeviation([100, 102, 98, 110, 90])).toBe(2);
    // sorted 96 100 104 120 → median 102; deviations 2, 2, 6, 18 → (2 + 6) / 2 = 4
    expect(medianAbsoluteDeviation([100, 104, 96, 120])).toBe(4);
  });

  it('noise = 1.4826 × MAD / median from 3 runs on, else 0', () => {
    expect(relativeNoise([100, 102, 98, 110, 90])).toBeCloseTo((1.4826 * 2) / 100, 12);
    expect(relativeNoise([100, 104, 96, 120])).toBeCloseTo((1.4826 * 4) / 102, 12);
    expect(relativeNoise([100, 200])).toBe(0);
    expect(relativeNoise([100])).toBe(0);
    expect(relativeNoise([0, 0, 5])).toBe(0); // zero median: no relative noise
  });

  it('defaults: tolerance 0.05, k 3, 5 runs; min runs 3 for gates, 1 for compare', () => {
    expect(HISTORY_GATE_DEFAULTS).toEqual({ tolerance: 0.05, noiseK: 3, runs: 5, minRuns: 3 });
    expect(COMPARE_DEFAULTS).toEqual({ tolerance: 0.05, noiseK: 3, runs: 5, minRuns: 1 });
  });
});

describe('judge', () => {
  it('odd n: allowed widens to k × noise when the baseline is noisy (lower is better)', () => {
    const base = [100, 102, 98, 110, 90]; // median 100, noise 0.029652, allowed 3 × 0.029652 = 0.088956
    const worse = judge(base, 109, 'lower', rule);
    expect(worse.baseline).toBe(100);
    expect(worse.noise).toBeCloseTo(0.029652, 9);
    expect(worse.allowed).toBeCloseTo(0.088956, 9);
    expect(worse.worsening).toBeCloseTo(0.09, 12);
    expect(worse.delta).toBeCloseTo(0.09, 12);
    expect(worse.verdict).toBe('regressed');
    expect(judge(base, 108.8, 'lower', rule).verdict).toBe('unchanged'); // 8.8 % < 8.8956 %
    expect(judge(base, 91, 'lower', rule).verdict).toBe('improved'); // −9 % < −8.8956 %
    expect(judge(base, 91.2, 'lower', rule).verdict).toBe('unchanged');
  });

  it('even n: the median is the mean of the middle two', () => {
    // median 102, MAD 4, noise 0.058141, allowed 0.174424
    const j = judge([100, 104, 96, 120], 120, 'lower', rule);
    expect(j.baseline).toBe(102);
    expect(j.allowed).toBeCloseTo((3 * 1.4826 * 4) / 102, 12);
    expect(j.worsening).toBeCloseTo(18 / 102, 12); // 0.176471 > 0.174424
    expect(j.verdict).toBe('regressed');
    expect(judge([100, 104, 96, 120], 119.5, 'lower', rule).verdict).toBe('unchanged'); // 0.171569
  });

  it('n < 3: no noise term, allowed = tolerance', () => {
    const j = judge([100, 200], 157.6, 'lower', rule);
    expect(j.baseline).toBe(150);
    expect(j.noise).toBe(0);
    expect(j.allowed).toBe(0.05);
    expect(j.verdict).toBe('regressed'); // 5.07 %
    expect(judge([100, 200], 157.4, 'lower', rule).verdict).toBe('unchanged');
  });

  it('higher is better: worsening is the negative change', () => {
    const drop = judge([1000], 949, 'higher', rule);
    expect(drop.worsening).toBeCloseTo(0.051, 12);
    expect(drop.delta).toBeCloseTo(-0.051, 12);
    expect(drop.verdict).toBe('regressed');
    expect(judge([1000], 1051, 'higher', rule).verdict).toBe('improved');
    expect(judge([1000], 1051, 'lower', rule).verdict).toBe('regressed');
    expect(judge([1000], 949, 'lower', rule).verdict).toBe('improved');
  });

  it('a worsening exactly at the allowance is unchanged; just beyond it (by more than 1e-9) regressed', () => {
    expect(judge([1000], 950, 'higher', rule).verdict).toBe('unchanged');
    expect(judge([1000], 1050, 'higher', rule).verdict).toBe('unchanged');
    expect(judge([100], 105, 'lower', rule).verdict).toBe('unchanged');
    expect(judge([100], 95, 'lower', rule).verdict).toBe('unchanged');
    // 138.13 × 1.05 is not exact in floating point: (x − b) / b = 0.05000000000000005
    expect(judge([138.13], 138.13 * 1.05, 'lower', rule).verdict).toBe('unchanged');
    expect(judge([100], 105.000001, 'lower', rule).verdict).toBe('regressed'); // 1e-8 beyond
    expect(judge([100], 105.00000005, 'lower', rule).verdict).toBe('unchanged'); // 5e-10 beyond: within slack
    expect(judge([100], 94.999999, 'lower', rule).verdict).toBe('improved');
  });

  it('a zero baseline: delta null, any move counts in its direction', () => {
    const same = judge([0], 0, 'lower', rule);
    expect(same.delta).toBeNull();
    expect(same.verdict).toBe('unchanged');
    const up = judge([0, 0, 0], 5, 'lower', rule);
    expect(up.delta).toBeNull();
    expect(up.noise).toBe(0);
    expect(up.verdict).toBe('regressed');
    expect(judge([0], 5, 'higher', rule).verdict).toBe('improved');
    expect(judge([0], 5, 'unknown', rule).verdict).toBe('changed');
    expect(judge([0], 0, 'unknown', rule).verdict).toBe('unchanged');
  });

  it('an unknown direction: changed when |delta| > allowed, never regressed or improved', () => {
    const j = judge([100], 110, 'unknown', rule);
    expect(j.worsening).toBeNull();
    expect(j.verdict).toBe('changed');
    expect(j.margin).toBeCloseTo(0.05, 12);
    expect(judge([100], 90, 'unknown', rule).verdict).toBe('changed');
    expect(judge([100], 104, 'unknown', rule).verdict).toBe('unchanged');
  });

  it('fewer runs than minRuns: insufficient, numbers still given', () => {
    const j = judge([100, 101], 200, 'lower', { ...rule, minRuns: 3 });
    expect(j.verdict).toBe('insufficient');
    expect(j.baseline).toBe(100.5);
    expect(j.baselineRuns).toBe(2);
    expect(judge([100, 101, 99], 200, 'lower', { ...rule, minRuns: 3 }).verdict).toBe('regressed');
  });

  it('margin = worsening − allowed', () => {
    expect(judge([100], 120, 'lower', rule).margin).toBeCloseTo(0.15, 12);
    expect(judge([100], 80, 'lower', rule).margin).toBeCloseTo(-0.25, 12);
  });
});

describe('selectBaseline', () => {
  const run = (value: number, endTime: number | null, passed = true) => ({ value, endTime, passed });

  it('keeps passed runs, orders by end time, takes the last N (0 = all)', () => {
    const runs = [run(1, 50), run(2, 10), run(3, 40, false), run(4, 30), run(5, 20), run(6, 60), run(7, 70)];
    expect(selectBaseline(runs, 3).map((r) => r.value)).toEqual([1, 6, 7]);
    expect(selectBaseline(runs, 0).map((r) => r.value)).toEqual([2, 5, 4, 1, 6, 7]);
    expect(selectBaseline(runs, 5).map((r) => r.value)).toEqual([5, 4, 1, 6, 7]);
  });

  it('ties keep input order; an unknown end time counts as the oldest', () => {
    const runs = [run(1, 10), run(2, null), run(3, 10)];
    expect(selectBaseline(runs, 0).map((r) => r.value)).toEqual([2, 1, 3]);
    expect(selectBaseline(runs, 1).map((r) => r.value)).toEqual([3]);
  });
});

describe('metric direction', () => {
  it('latencies are lower-is-better, on whole tokens, any case', () => {
    for (const m of [
      'p99_ttft_ms',
      'SERVER_MEDIAN_TTFT',
      'DISAGG_SERVER_E2EL',
      'mean_tpot',
      'itl',
      'e2e-Latency',
    ])
      expect(metricDirection(m), m).toBe('lower');
    expect(metricDirection('duration_ms')).toBe('lower'); // a name ending in _ms
  });

  it('throughputs are higher-is-better', () => {
    for (const m of ['output_throughput', 'total_token_throughput', 'request_goodput', 'gen-TPS', 'TPS'])
      expect(metricDirection(m), m).toBe('higher');
  });

  it('anything else, and tokens that only contain a keyword, has no direction', () => {
    for (const m of ['duration_s', 'successful_requests', 'ttfts', 'myITL', 'throughputs', 'ms_count'])
      expect(metricDirection(m), m).toBe('unknown');
  });

  it('units for the verdict text', () => {
    expect(metricUnit('p99_ttft_ms')).toBe('ms');
    expect(metricUnit('SERVER_MEDIAN_TTFT')).toBe('ms');
    expect(metricUnit('output_throughput')).toBe('tok/s');
    expect(metricUnit('request_throughput')).toBe('req/s');
    expect(metricUnit('duration_s')).toBe('s');
    expect(metricUnit('successful_requests')).toBe('');
  });
});

describe('the verdict in words', () => {
  it('reads like the issue: value, change, baseline, runs, noise, allowance, outcome', () => {
    // median 11,930; |x − median| = 130, 97, 0, 97, 170 → MAD 97; noise 1.4826 × 97 / 11930 = 1.2 %
    const j = judge([11930, 11833, 12027, 11800, 12100], 10840, 'higher', { ...rule, minRuns: 3 });
    expect(describeJudgement({ metric: 'output_throughput', concurrency: 64 }, j, { minRuns: 3 })).toBe(
      'output_throughput at concurrency 64: 10,840 tok/s is 9.1 % below the baseline 11,930 ' +
        '(median of 5 runs, noise ±1.2 %); allowed −5.0 % → FAILED',
    );
  });

  it('says when there are too few runs for noise or for a verdict', () => {
    const s = { metric: 'median_ttft_ms', concurrency: 4 };
    expect(describeJudgement(s, judge([100], 100, 'lower', rule))).toBe(
      'median_ttft_ms at concurrency 4: 100 ms equals the baseline 100 (1 run, noise not measured); ' +
        'allowed +5.0 % → PASSED',
    );
    expect(describeJudgement(s, judge([100, 110], 90, 'lower', rule))).toMatch(
      /90 ms is 14.3 % below the baseline 105 \(median of 2 runs, noise not measured below 3\); allowed \+5.0 % → PASSED \(improved\)$/,
    );
    expect(
      describeJudgement(s, judge([100, 110], 200, 'lower', { ...rule, minRuns: 3 }), { minRuns: 3 }),
    ).toMatch(/→ no verdict: 2 baseline runs, 3 needed$/);
    expect(describeJudgement({ metric: 'odd', concurrency: 1 }, judge([100], 120, 'unknown', rule))).toMatch(
      /allowed ±5.0 % → CHANGED \(no known direction for odd; a gate can set higher_is_better\)$/,
    );
    expect(describeJudgement(s, judge([0], 3, 'lower', rule))).toMatch(
      /3 ms is above the baseline 0 \(1 run, noise not measured\), no relative change from 0; allowed \+5.0 % → FAILED$/,
    );
  });
});
