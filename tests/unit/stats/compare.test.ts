// compareSamples: which samples form the baseline, which current value counts, new and missing rows,
// and the order of the rows.
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../../src/results/compare-inputs.js';
import { compareSamples, filterSamples, splitLatest } from '../../../src/stats/compare.js';
import { isSpreadMetric } from '../../../src/stats/direction.js';
import { COMPARE_DEFAULTS } from '../../../src/stats/regression.js';

const s = (
  test: string,
  metric: string,
  value: number,
  endTime: number | null = null,
  concurrency = 4,
  passed = true,
): MetricSample => ({ test, concurrency, metric, value, endTime, passed });

describe('compareSamples', () => {
  it('baseline = the last --runs by end time; several current values → the latest', () => {
    // end times 1…7, given out of order: by time 1000 1000 1000 100 100 100 1000
    const runs: Array<[number, number]> = [
      [100, 5],
      [1000, 7],
      [1000, 1],
      [100, 4],
      [1000, 3],
      [100, 6],
      [1000, 2],
    ];
    const baseline = runs.map(([v, t]) => s('t', 'median_ttft_ms', v, t));
    // the later current value comes first in the input
    const current = [s('t', 'median_ttft_ms', 104, 2), s('t', 'median_ttft_ms', 500, 1)];
    // last 5: 1000 100 100 100 1000 → median 100; 104 is +4 %
    const { rows, regressions } = compareSamples(baseline, current, COMPARE_DEFAULTS);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ baseline: 100, baselineRuns: 5, current: 104, verdict: 'unchanged' });
    expect(regressions).toBe(0);
    // runs 0 = all seven: 100 ×3, 1000 ×4 → median 1000
    const all = compareSamples(baseline, current, { ...COMPARE_DEFAULTS, runs: 0 }).rows[0];
    expect(all).toMatchObject({ baseline: 1000, baselineRuns: 7, verdict: 'improved' });
    // runs 2: 100 (t=6), 1000 (t=7) → median 550
    expect(compareSamples(baseline, current, { ...COMPARE_DEFAULTS, runs: 2 }).rows[0].baseline).toBe(550);
  });

  it('new and missing rows never fail; insufficient when fewer than min-runs', () => {
    const { rows, regressions } = compareSamples(
      [s('a', 'median_ttft_ms', 1), s('b', 'median_ttft_ms', 1)],
      [s('a', 'median_ttft_ms', 5), s('c', 'median_ttft_ms', 1)],
      { ...COMPARE_DEFAULTS, minRuns: 2 },
    );
    expect(rows.map((r) => [r.test, r.verdict])).toEqual([
      ['a', 'insufficient'],
      ['b', 'missing'],
      ['c', 'new'],
    ]);
    expect(regressions).toBe(0);
    expect(rows[1]).toMatchObject({
      baseline: null,
      baselineRuns: 1,
      current: null,
      delta: null,
      allowed: null,
    });
    expect(rows[2]).toMatchObject({ baseline: null, baselineRuns: 0, current: 1, delta: null, noise: null });
  });

  it('a baseline whose runs all failed gives no verdict', () => {
    const { rows } = compareSamples(
      [s('a', 'median_ttft_ms', 1, 1, 4, false)],
      [s('a', 'median_ttft_ms', 9)],
      COMPARE_DEFAULTS,
    );
    expect(rows[0]).toMatchObject({ verdict: 'insufficient', baselineRuns: 0, current: 9 });
    expect(rows[0].message).toBe('a: median_ttft_ms at concurrency 4: no verdict: no baseline run passed');
  });

  it('rows sort by worsening − allowed, worst first; unjudged rows last', () => {
    const baseline = ['x', 'y', 'z', 'w'].map((t) => s(t, 'median_ttft_ms', 100));
    const current = [
      s('x', 'median_ttft_ms', 90),
      s('y', 'median_ttft_ms', 130),
      s('z', 'median_ttft_ms', 110),
      s('v', 'median_ttft_ms', 1),
      s('u', 'odd', 120),
    ];
    const { rows, regressions } = compareSamples(
      [...baseline, s('u', 'odd', 100)],
      current,
      COMPARE_DEFAULTS,
    );
    expect(rows.map((r) => [r.test, r.verdict])).toEqual([
      ['y', 'regressed'],
      ['z', 'regressed'],
      ['x', 'improved'],
      ['u', 'shown'],
      ['w', 'missing'],
      ['v', 'new'],
    ]);
    expect(regressions).toBe(2);
  });

  it('kinds meet: the original CSV names against bench keys, shown as the current side writes them', () => {
    const { rows } = compareSamples(
      [s('test_stress[x]', 'SERVER_MEDIAN_TTFT', 100)],
      [s('x', 'median_ttft_ms', 120)],
      COMPARE_DEFAULTS,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ test: 'x', metric: 'median_ttft_ms', verdict: 'regressed' });
    expect(rows[0].message).toBe(
      'x: median_ttft_ms at concurrency 4: 120 ms is 20.0 % above the baseline 100 (1 run, noise not measured); allowed +5.0 % → FAILED',
    );
  });

  it('std_* and other spreads, and metrics of unknown direction, are shown, never judged', () => {
    expect(['std_ttft_ms', 'SERVER_STD_TPOT', 'mad_itl_ms', 'ttft_stdev'].every(isSpreadMetric)).toBe(true);
    expect(['median_ttft_ms', 'output_throughput', 'standard'].some(isSpreadMetric)).toBe(false);
    const { rows, regressions } = compareSamples(
      [s('a', 'std_ttft_ms', 10), s('a', 'SERVER_STD_TPOT', 10), s('a', 'odd', 10)],
      [s('a', 'std_ttft_ms', 100), s('a', 'SERVER_STD_TPOT', 100), s('a', 'odd', 100)],
      COMPARE_DEFAULTS,
    );
    expect(regressions).toBe(0);
    expect(rows.map((r) => r.verdict)).toEqual(['shown', 'shown', 'shown']);
    expect(rows[0]).toMatchObject({ baseline: 10, current: 100, delta: 9, allowed: null, margin: null });
    expect(rows.find((r) => r.metric === 'std_ttft_ms')?.message).toBe(
      'a: std_ttft_ms at concurrency 4: shown, not judged (a spread)',
    );
    expect(rows.find((r) => r.metric === 'odd')?.message).toBe(
      'a: odd at concurrency 4: shown, not judged (no known direction)',
    );
  });

  it('a baseline holding the current run too: that run is left out while earlier ones remain', () => {
    const base = [s('a', 'median_ttft_ms', 100, 1), s('a', 'median_ttft_ms', 200, 2)];
    const { rows } = compareSamples(base, [s('a', 'median_ttft_ms', 200, 2)], COMPARE_DEFAULTS);
    expect(rows[0]).toMatchObject({ baseline: 100, baselineRuns: 1, current: 200, verdict: 'regressed' });
    // A single-run copy stays the baseline: a CSV against an edited copy of itself still compares.
    const one = compareSamples(
      [s('a', 'median_ttft_ms', 200, 2)],
      [s('a', 'median_ttft_ms', 200, 2)],
      COMPARE_DEFAULTS,
    );
    expect(one.rows[0]).toMatchObject({ baselineRuns: 1, verdict: 'unchanged' });
  });

  it('splitLatest: per key the latest sample is current, the earlier ones the baseline', () => {
    const a1 = s('a', 'median_ttft_ms', 100, 1);
    const a2 = s('a', 'median_ttft_ms', 110, 3);
    const a0 = s('a', 'median_ttft_ms', 90, 2, 4, false);
    const b1 = s('b', 'median_ttft_ms', 5, 1);
    const { earlier, latest } = splitLatest([a1, a2, a0, b1]);
    expect(latest).toEqual([a2, b1]);
    expect(earlier).toEqual([a1, a0]);
  });

  it('filterSamples: metrics as written or by bench key (any case), concurrencies; empty = all', () => {
    const all = [
      s('a', 'SERVER_MEDIAN_TTFT', 1, null, 8),
      s('a', 'median_ttft_ms', 1, null, 16),
      s('a', 'output_throughput', 1, null, 8),
    ];
    expect(filterSamples(all, { metrics: [], concurrencies: [] })).toEqual(all);
    expect(filterSamples(all, { metrics: ['median_ttft_ms'], concurrencies: [] })).toEqual(all.slice(0, 2));
    expect(filterSamples(all, { metrics: ['server_median_ttft'], concurrencies: [8] })).toEqual([all[0]]);
    expect(filterSamples(all, { metrics: [], concurrencies: [8] })).toEqual([all[0], all[2]]);
  });
});
