// The Pareto frontier of tokens/s per GPU (y) against tokens/s per user (x), both higher-is-better, on
// hand-made point sets.
import { describe, expect, it } from 'vitest';
import { paretoFrontier } from '../../../src/stats/pareto.js';

const pt = (id: string, perUser: number, perGpu: number) => ({ id, perUser, perGpu });
const ids = (points: Array<{ id: string }>) => points.map((p) => p.id);

describe('paretoFrontier', () => {
  it('drops dominated points and orders the frontier by per-user rate (per-GPU descending)', () => {
    const points = [
      pt('a', 10, 100), // fast per GPU, slow per user
      pt('b', 20, 80),
      pt('c', 15, 70), // dominated by b (20 ≥ 15, 80 ≥ 70)
      pt('d', 40, 30),
      pt('e', 30, 20), // dominated by d
      pt('f', 5, 90), // dominated by a
    ];
    expect(ids(paretoFrontier(points))).toEqual(['a', 'b', 'd']);
  });

  it('keeps both of two equal points; a point equal on one axis and worse on the other is dominated', () => {
    const points = [pt('x', 10, 50), pt('y', 10, 50), pt('z', 10, 40), pt('w', 5, 50)];
    expect(ids(paretoFrontier(points)).sort()).toEqual(['x', 'y']);
  });

  it('a single config: its concurrencies form the frontier when they trade off', () => {
    // One config at concurrency 1, 4, 16, 64: more concurrency, more per GPU, less per user; 64 is
    // past saturation (less per GPU than 16 and slower per user), so it is dominated.
    const points = [pt('c1', 100, 10), pt('c4', 90, 35), pt('c16', 60, 80), pt('c64', 30, 75)];
    expect(ids(paretoFrontier(points))).toEqual(['c16', 'c4', 'c1']);
  });

  it('one point is its own frontier; none is empty; non-finite values are left out', () => {
    expect(ids(paretoFrontier([pt('only', 1, 1)]))).toEqual(['only']);
    expect(paretoFrontier([])).toEqual([]);
    expect(ids(paretoFrontier([pt('nan', Number.NaN, 99), pt('ok', 1, 1)]))).toEqual(['ok']);
  });
});
