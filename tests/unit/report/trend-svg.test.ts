// The directly drawn trend chart: the marks, axes and hover titles the page and its browser test rely on.
import { describe, expect, it } from 'vitest';
import { pointTitle, timeTicks, trendSvg, utcLabel } from '../../../src/report/trend-svg.js';

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

/** The y axis as drawn: each tick label with its height, and each point's height (0 = top, 120 = bottom). */
function yAxisOf(svg: string): { labels: string[]; tickYs: number[]; pointYs: number[] } {
  const ticks = [
    ...svg.matchAll(/<text text-anchor="end" transform="translate\(-7,([-\d.]+)\)"[^>]*>([^<]*)<\/text>/g),
  ];
  const points = [...svg.matchAll(/aria-roledescription="point" d="M[-\d.]+,([-\d.]+)a/g)];
  return {
    labels: ticks.map((m) => m[2] as string),
    // The label's baseline is 3 px below its tick.
    tickYs: ticks.map((m) => Number(m[1]) - 3),
    pointYs: points.map((m) => Number(m[1])),
  };
}

describe('trendSvg y axis: a scale to read, whatever the series', () => {
  const series = (values: number[]) =>
    values.map((value, i) => ({
      at: new Date(Date.UTC(2026, 11, 1 + i)).toISOString(),
      run: `r${i}`,
      value,
      gate: 'no gate',
    }));
  const cases: Array<[string, number[]]> = [
    ['flat (every TPOT the same)', [12.34, 12.34, 12.34]],
    ['near-flat (differs in the 3rd decimal)', [12.341, 12.343, 12.342]],
    ['a single point', [1234.5]],
    ['all zero', [0, 0]],
    ['a range the round steps straddle (1234.5–1254.5)', [1234.5, 1254.5, 1234.5]],
    ['huge values', [1_000_000, 1_000_400]],
  ];
  it.each(cases)('%s: ≥ 3 distinct labels, every point inside the plot with headroom', (_, values) => {
    const { labels, tickYs, pointYs } = yAxisOf(trendSvg(series(values), { yTitle: 'y', legend: false }));
    expect(labels.length).toBeGreaterThanOrEqual(3);
    expect(new Set(labels).size).toBe(labels.length);
    for (const l of labels) expect(l).not.toMatch(/^-0(\.0*)?$|\d{8}/);
    // Ascending values up the axis; on the plot (0..120 px).
    for (let i = 1; i < tickYs.length; i++) expect(tickYs[i]).toBeLessThan(tickYs[i - 1] as number);
    for (const t of tickYs) expect(t >= 0 && t <= 120).toBe(true);
    expect(pointYs).toHaveLength(values.length);
    for (const p of pointYs) expect(p > 2 && p < 118).toBe(true);
  });

  it('a long tick label pushes the y title and the plot right, clear of it', () => {
    const svg = trendSvg(series([1_000_000.25, 1_000_000.5]), { yTitle: 'y', legend: false });
    const titleX = Number(/translate\(-([\d.]+),60\) rotate\(-90\)/.exec(svg)?.[1]);
    const widest = Math.max(...yAxisOf(svg).labels.map((l) => l.length));
    expect(widest).toBeGreaterThan(10);
    // About 6 px a character at 11 px, from 7 px left of the axis.
    expect(titleX).toBeGreaterThan(7 + widest * 5.5);
    expect(svg).toContain(`<g fill="none" transform="translate(${titleX + 24},`);
  });
});

describe('axis helpers', () => {
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
    // Values that differ only in the 3rd decimal differ on hover too.
    const steady = { ...(rows[0] as (typeof rows)[number]), value: 12.3415 };
    expect(pointTitle(steady, 'm')).toContain('m: 12.3415;');
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
