import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../../src/stats/normal.js';
import { computeThreshold, datasetDefaults, toFraction } from '../../../src/stats/threshold.js';

describe('normalQuantile', () => {
  it('matches Python statistics.NormalDist().inv_cdf to 1e-7', () => {
    expect(normalQuantile(0.05)).toBeCloseTo(-1.644853627, 7);
    expect(normalQuantile(0.2)).toBeCloseTo(-0.8416212336, 7);
    expect(normalQuantile(0.002)).toBeCloseTo(-2.8781617391, 7);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326347874, 7);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644853627, 7);
    expect(() => normalQuantile(0)).toThrow(RangeError);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe('computeThreshold: reference values, everything as fractions', () => {
  // Computed with Python's statistics.NormalDist().inv_cdf (alpha 0.05, beta 0.2), i.e. TRT-LLM's
  // accuracy_core.py: s = sqrt(2σ²/n), theta = -(z_a + z_b)·s, threshold = expected + z_a·s (hib) or − z_a·s.
  // [sigma, expected, n, theta (on 0–1), threshold hib=true (0–1), threshold hib=false (0–1)]
  const table: Array<[number, number, number, number, number, number]> = [
    [0.05, 0.85, 100, 0.017582, 0.838369, 0.861631],
    [0.05, 0.85, 1319, 0.004841, 0.846797, 0.853203],
    [0.05, 0.85, 14042, 0.001484, 0.849018, 0.850982],
    [0.05, 0.75, 100, 0.017582, 0.738369, 0.761631],
    [0.05, 0.75, 1319, 0.004841, 0.746797, 0.753203],
    [0.05, 0.5, 14042, 0.001484, 0.499018, 0.500982],
    [50, 0.85, 100, 0.17582032, 0.73369128, 0.96630872],
    [50, 0.85, 1319, 0.04841129, 0.81797495, 0.88202505],
    [50, 0.85, 14042, 0.01483729, 0.84018483, 0.85981517],
    [50, 0.75, 1319, 0.04841129, 0.71797495, 0.78202505],
    [50, 0.5, 100, 0.17582032, 0.38369128, 0.61630872],
    [50, 0.5, 14042, 0.01483729, 0.49018483, 0.50981517],
  ];
  it.each(table)('sigma %d expected %d n %d', (sigma, expected, n, theta, hib, lib) => {
    const up = computeThreshold({ expected, numSamples: n, sigma, alpha: 0.05, beta: 0.2 });
    const down = computeThreshold({
      expected,
      numSamples: n,
      sigma,
      alpha: 0.05,
      beta: 0.2,
      higherIsBetter: false,
    });
    // The table prints 6 decimals (8 for the 0–100 rows divided by 100): half a unit of rounding
    // plus ~2e-9 from the quantile approximation.
    const tol = sigma > 1 ? 1e-8 : 5e-7;
    expect(Math.abs(up.theta - theta)).toBeLessThan(tol);
    expect(Math.abs(up.threshold - hib)).toBeLessThan(tol);
    expect(Math.abs(down.threshold - lib)).toBeLessThan(tol);
    expect(down.theta).toBe(up.theta);
  });

  it('the brief values to 1e-6', () => {
    const a = computeThreshold({ expected: 0.85, numSamples: 1319, sigma: 50 });
    expect(Math.abs(a.threshold - 0.81797495)).toBeLessThan(1e-6);
    expect(Math.abs(a.theta - 0.04841129)).toBeLessThan(1e-6);
    const b = computeThreshold({ expected: 0.85, numSamples: 1319, sigma: 50, higherIsBetter: false });
    expect(Math.abs(b.threshold - 0.88202505)).toBeLessThan(1e-6);
    const c = computeThreshold({ expected: 0.85, numSamples: 100, sigma: 0.05 });
    expect(Math.abs(c.threshold - 0.83836913)).toBeLessThan(1e-6);
  });

  it('expected as a percentage and sigma in points give the same answer as fractions', () => {
    const pct = computeThreshold({ expected: 85, numSamples: 1319, sigma: 50 });
    const frac = computeThreshold({ expected: 0.85, numSamples: 1319, sigma: 0.5 });
    expect(pct.threshold).toBeCloseTo(frac.threshold, 12);
    expect(pct.theta).toBeCloseTo(frac.theta, 12);
  });

  it('TRT-LLM cross-checks (ref 85%): mmlu, humaneval, gpqa_diamond', () => {
    const run = (name: string) => {
      const d = datasetDefaults(name);
      return computeThreshold({
        expected: 0.85,
        numSamples: d.num_samples,
        sigma: d.sigma,
        alpha: d.alpha,
        beta: d.beta,
      });
    };
    expect(run('mmlu').theta).toBeCloseTo(0.027472, 5);
    expect(run('mmlu').threshold).toBeCloseTo(0.831827, 5);
    expect(run('humaneval').theta).toBeCloseTo(0.061946, 5);
    expect(run('humaneval').threshold).toBeCloseTo(0.80207, 5);
    expect(run('GPQA_Diamond').threshold).toBeCloseTo(0.767343, 5);
  });

  it('the worked gsm8k example: expected 0.9454 → 0.913375', () => {
    expect(computeThreshold({ expected: 0.9454, numSamples: 1319, sigma: 50 }).threshold).toBeCloseTo(
      0.913375,
      5,
    );
    expect(computeThreshold({ expected: 0.9454, numSamples: 1000, sigma: 50 }).threshold).toBeCloseTo(
      0.90862,
      5,
    );
  });

  it('defaults and bad input', () => {
    expect(datasetDefaults('gsm8k')).toMatchObject({ alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 1319 });
    expect(datasetDefaults('unknown')).toMatchObject({
      alpha: 0.05,
      beta: 0.2,
      sigma: 50,
      num_samples: 1000,
    });
    expect(toFraction(85)).toBe(0.85);
    expect(toFraction(0.85)).toBe(0.85);
    expect(computeThreshold({ expected: 0.5, numSamples: 20, sigma: 0, alpha: 0.5 })).toEqual({
      threshold: 0.5,
      theta: 0,
    });
    expect(() => computeThreshold({ expected: 0.5, numSamples: 0 })).toThrow(/num_samples/);
    expect(() => computeThreshold({ expected: 0.5, numSamples: 10, alpha: 1.5 })).toThrow(/alpha/);
    expect(() => computeThreshold({ expected: 0.5, numSamples: 10, sigma: -1 })).toThrow(/sigma/);
  });
});
