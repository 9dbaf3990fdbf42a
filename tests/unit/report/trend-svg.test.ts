// The directly drawn trend chart: the marks, axes and hover titles the page and its browser test rely on.
import { describe, expect, it } from 'vitest';
import { niceTicks, pointTitle, timeTicks, trendSvg, utcLabel } from '../../../src/report/trend-svg.js';

const rows = [
  { at: '2026-12-01T09:15:00.000Z', run: 'r1', value: 1234.5, gate: 'passed' },
  { at: '2026-12-01T21:45:00.000Z', run: 'r<2>', value: 1254.5, gate: 'failed' },
  { at: '2026-12-02T21:45:00.000Z', run: 'r3', value: 1234.5, gate: 'no gate' },
];

describe('trendSvg', () => {
  it('draws one line, one point per run coloured by its gate, with a <title> each', () => {
    const svg = trendSvg(rows, { yTitle: 'output throughput (tok/s)', legend: true });
    expect(svg.match(/<g class="mark-line role-mark"><path d="M[^"]*"/g)).toHaveLength(1);
    const points = [
      ...svg.matchAll(/aria-roledescription="point"[^>]*fill="(#\w+)"[^>]*><title>([^<]*)<\/title>/g),
    ];
    expect(points.map((p) => p[1])).toEqual(['#16a34a', '#dc2626', '#9ca3af']);
    // The run id is escaped for XML; 24-hour UTC time.
    expect(points[1]?.[2]).toBe(
      'run id: r&lt;2&gt;; ended (UTC): 2026-12-01 21:45:00; output throughput (tok/s): 1,254.50; gate: failed',
    );
    expect(svg).toContain('role-axis-title"><text');
    expect(svg).toContain('>output throughput (tok/s)</text>');
    expect(svg).toContain('>run end (UTC)</text>');
    expect(svg).toContain('role-legend');
    expect(trendSvg(rows, { yTitle: 'y', legend: false })).not.toContain('role-legend');
  });

  it('one value repeated at one time still gives a finite chart', () => {
    const first = rows[0] as (typeof rows)[number];
    const svg = trendSvg([first, { ...first, run: 'r9' }], { yTitle: 'y', legend: false });
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});

describe('axis helpers', () => {
  it('niceTicks: round steps covering the data', () => {
    expect(niceTicks(1234.5, 1254.5, 3)).toEqual({ ticks: [1240, 1250], step: 10 });
    expect(niceTicks(0, 1, 4).ticks).toEqual([0, 0.5, 1]);
  });

  it('timeTicks: round UTC times, at most the count asked', () => {
    const lo = Date.parse('2026-12-01T09:15:00Z');
    const hi = Date.parse('2026-12-02T21:45:00Z');
    expect(timeTicks(lo, hi).map(utcLabel)).toEqual(['01 Dec 12:00', '02 Dec 00:00', '02 Dec 12:00']);
    const year = timeTicks(Date.parse('2025-12-01T00:00:00Z'), Date.parse('2026-11-30T00:00:00Z'));
    expect(year.length).toBeGreaterThan(1);
    expect(year.length).toBeLessThanOrEqual(4);
  });

  it('pointTitle: run id first, 24-hour UTC end time', () => {
    expect(pointTitle(rows[0] as (typeof rows)[number], 'm')).toBe(
      'run id: r1; ended (UTC): 2026-12-01 09:15:00; m: 1,234.50; gate: passed',
    );
  });
});

describe('trendSvg size', () => {
  it('names its font once, on the <svg> (inherited by every label), not on each <text>', () => {
    const svg = trendSvg(rows, { yTitle: 'y', legend: true });
    expect(svg.match(/font-family=/g)).toHaveLength(1);
    expect(svg).toMatch(/^<svg [^>]*font-family="system-ui/);
    expect(svg.match(/<text /g)?.length).toBeGreaterThan(5);
  });
});
