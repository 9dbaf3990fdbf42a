// The trend charts' y scale: at least 3 round ticks with distinct labels over a domain that holds every
// value with headroom, for flat, single-point, tiny, huge and negative series alike.
import { describe, expect, it } from 'vitest';
import { niceTicks, type NiceScale } from '../../../src/report/nice-ticks.js';

/** What every scale must be, whatever the data: the properties a reader of the chart relies on. */
function expectReadable(s: NiceScale, min: number, max: number): void {
  expect(s.ticks.length).toBeGreaterThanOrEqual(3);
  expect(s.ticks.length).toBeLessThanOrEqual(8);
  expect(s.labels).toHaveLength(s.ticks.length);
  expect(new Set(s.labels).size).toBe(s.labels.length);
  for (let i = 1; i < s.ticks.length; i++) expect(s.ticks[i]).toBeGreaterThan(s.ticks[i - 1] as number);
  // Headroom: no value on the plot's edge; every tick inside the domain.
  expect(s.lo).toBeLessThan(Math.min(min, max));
  expect(s.hi).toBeGreaterThan(Math.max(min, max));
  expect(s.lo).toBeLessThanOrEqual(s.ticks[0] as number);
  expect(s.hi).toBeGreaterThanOrEqual(s.ticks.at(-1) as number);
  // A round step (1, 2 or 5 × 10^k), every tick a multiple of it.
  expect(s.step.toExponential()).toMatch(/^[125]e[-+]\d+$/);
  for (const t of s.ticks) {
    expect(Math.abs(t / s.step - Math.round(t / s.step))).toBeLessThan(1e-6);
    expect(Object.is(t, -0)).toBe(false);
    // No float noise such as 0.30000000000000004 in the value itself.
    expect(String(t)).not.toMatch(/\.\d*(0{6,}|9{6,})\d/);
  }
  for (const l of s.labels) expect(l).not.toMatch(/^-0(\.0*)?$/);
}

describe('niceTicks', () => {
  it('a flat series: the value ± a round margin, the value in the middle', () => {
    const s = niceTicks(12.34, 12.34);
    expect(s.labels).toEqual(['11.5', '12.0', '12.5', '13.0']);
    expectReadable(s, 12.34, 12.34);
    expect((s.lo + s.hi) / 2).toBeCloseTo(12.34, 10);
  });

  it('a single point (min = max) of a round value', () => {
    const s = niceTicks(10, 10);
    expect(s.labels).toEqual(['9.0', '9.5', '10.0', '10.5', '11.0']);
    expectReadable(s, 10, 10);
  });

  it('only zeros: ticks from 0 to 1', () => {
    const s = niceTicks(0, 0);
    expect(s.ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(s.labels).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expectReadable(s, 0, 0);
  });

  it('negative values, and a range crossing zero without a -0 label', () => {
    const neg = niceTicks(-5, -1);
    expect(neg.labels).toEqual(['-5', '-4', '-3', '-2', '-1']);
    expectReadable(neg, -5, -1);
    const cross = niceTicks(-0.3, 0.1);
    expect(cross.labels).toContain('0.0');
    expectReadable(cross, -0.3, 0.1);
  });

  it('a tiny range (1e-4) and values differing in the 3rd decimal: enough decimals', () => {
    const tiny = niceTicks(0.5, 0.5001);
    expect(tiny.labels).toEqual(['0.50000', '0.50002', '0.50004', '0.50006', '0.50008', '0.50010']);
    expectReadable(tiny, 0.5, 0.5001);
    const tpot = niceTicks(12.341, 12.343);
    expect(tpot.labels).toEqual(['12.3410', '12.3415', '12.3420', '12.3425', '12.3430']);
    expectReadable(tpot, 12.341, 12.343);
  });

  it('9.98–10.02: every hundredth, across the change of integer digits', () => {
    const s = niceTicks(9.98, 10.02);
    expect(s.labels).toEqual(['9.98', '9.99', '10.00', '10.01', '10.02']);
    expectReadable(s, 9.98, 10.02);
  });

  it('huge values (1e6): thousands grouped, flat or not', () => {
    const flat = niceTicks(1e6, 1e6);
    expect(flat.labels).toEqual(['900,000', '950,000', '1,000,000', '1,050,000', '1,100,000']);
    expectReadable(flat, 1e6, 1e6);
    expectReadable(niceTicks(1e6, 1.2e6), 1e6, 1.2e6);
  });

  it('a range a coarser step would cover with 2 ticks gets a finer one (was [1240, 1250])', () => {
    const s = niceTicks(1234.5, 1254.5);
    expect(s.labels).toEqual(['1,235', '1,240', '1,245', '1,250', '1,255']);
    expectReadable(s, 1234.5, 1254.5);
    // 5.1–19 straddles the round steps badly: still 3 ticks or more.
    expectReadable(niceTicks(5.1, 19), 5.1, 19);
  });

  it('bounds given in either order; a non-finite bound is left out', () => {
    expect(niceTicks(3, 1)).toEqual(niceTicks(1, 3));
    expect(niceTicks(Number.NaN, 4)).toEqual(niceTicks(4, 4));
    expectReadable(niceTicks(Infinity, -Infinity), 0, 0);
  });

  it('values beyond fixed notation keep distinct labels in exponent form', () => {
    const big = niceTicks(1e15, 5e15);
    expect(big.labels).toEqual(['1e+15', '2e+15', '3e+15', '4e+15', '5e+15']);
    expectReadable(big, 1e15, 5e15);
    expectReadable(niceTicks(3e-17, 3e-17), 3e-17, 3e-17);
  });

  it('any range: ≥ 3 distinct ascending labels covering the data (2,000 seeded random ranges)', () => {
    // mulberry32: a fixed seed, so a failure names a range that fails again.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const counts = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const centre = (random() < 0.2 ? -1 : 1) * random() * 10 ** (Math.floor(random() * 16) - 6);
      // Spans from none (flat) through a millionth of the value to ten times it.
      const relative = random() < 0.1 ? 0 : 10 ** (random() * 8 - 7);
      const span = relative * Math.max(Math.abs(centre), 1e-9);
      const min = centre - span * random();
      const max = min + span;
      const s = niceTicks(min, max);
      try {
        expectReadable(s, min, max);
      } catch (e) {
        throw new Error(`range ${min}..${max}: ${String(e)}`);
      }
      counts.add(s.ticks.length);
    }
    // Mostly the 4–6 aimed at.
    expect([...counts].every((c) => c >= 3 && c <= 8)).toBe(true);
    expect(counts.has(5)).toBe(true);
  });
});
