// Trend charts: one per metric and concurrency, gated metrics first, concurrencies as numbers, the
// metric and its unit on the y axis, 24-hour UTC times, the run id on hover (an SVG <title>).
import { describe, expect, it } from 'vitest';
import { trendCharts, withHoverTitles } from '../../../src/report/charts.js';
import { historyEntry, TREND_RUNS } from '../../../src/report/history.js';

const run = (runId: string, endTime: string, gatePassed: boolean) =>
  historyEntry({
    test: 't',
    runId,
    endTime,
    passed: true,
    metrics: Object.fromEntries(
      [256, 64, 8, 1].map((c) => [
        String(c),
        { median_ttft_ms: c, output_throughput: 10 * c, p99_itl_ms: 3 },
      ]),
    ),
    verdicts: [{ kind: 'limit', metric: 'p99_itl_ms', concurrency: 64, passed: gatePassed, message: 'm' }],
  });

describe('trendCharts', () => {
  it('orders gated series first, then key metrics, concurrencies numerically', async () => {
    const charts = trendCharts('t', [
      run('r1', '2026-12-01T09:15:00.000Z', true),
      run('r2', '2026-12-01T21:45:00.000Z', false),
    ]);
    expect(charts.map((c) => `${c.attrs?.metric}@${c.attrs?.concurrency}`)).toEqual([
      'p99_itl_ms@64',
      'output_throughput@1',
      'output_throughput@8',
      'output_throughput@64',
      'output_throughput@256',
      'median_ttft_ms@1',
      'median_ttft_ms@8',
      'median_ttft_ms@64',
      'median_ttft_ms@256',
      // The gated metric at the concurrencies its gate does not judge: after the key metrics.
      'p99_itl_ms@1',
      'p99_itl_ms@8',
      'p99_itl_ms@256',
    ]);
    expect(charts[0].attrs?.gated).toBe('true');
    const ttft = charts.find((c) => c.attrs?.metric === 'median_ttft_ms');
    expect(ttft?.title).toBe('median TTFT (ms) · concurrency 1');
    expect(ttft?.svg).toContain('median TTFT (ms)</text>');
    expect(ttft?.svg).not.toMatch(/>value</);
    // Run id and a 24-hour UTC time on hover.
    expect(ttft?.svg).toMatch(/<title>[^<]*run id: r2[^<]*21:45[^<]*<\/title>/);
    expect(charts[0].svg).toMatch(/gate: failed/);
  });

  it('one run is no trend', async () => {
    expect(trendCharts('t', [run('r1', '2026-12-01T09:15:00.000Z', true)])).toEqual([]);
  });
});

describe('withHoverTitles', () => {
  it('gives each point its aria label as a <title>; other paths stay as they are', () => {
    const svg =
      '<path aria-label="a: 1" role="graphics-symbol" aria-roledescription="point" d="M0"/>' +
      '<path aria-label="line" role="graphics-symbol" aria-roledescription="line mark" d="M1"/>';
    expect(withHoverTitles(svg)).toBe(
      '<path aria-label="a: 1" role="graphics-symbol" aria-roledescription="point" d="M0"><title>a: 1</title></path>' +
        '<path aria-label="line" role="graphics-symbol" aria-roledescription="line mark" d="M1"/>',
    );
  });
});

describe('trendCharts: a year of runs', () => {
  it(`shows the last ${TREND_RUNS} runs and says so in the title`, () => {
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString();
    const year = Array.from({ length: 365 }, (_, i) => run(`r${i}`, day(i), true));
    const [first] = trendCharts('t', year);
    expect(first?.title).toMatch(new RegExp(`last ${TREND_RUNS} of 365 runs$`));
    const ids = [...(first?.svg ?? '').matchAll(/<title>run id: (r\d+);/g)].map((m) => m[1]);
    expect(ids).toHaveLength(TREND_RUNS);
    expect(ids[0]).toBe(`r${365 - TREND_RUNS}`);
    expect(ids.at(-1)).toBe('r364');
  });
});
