// The HTML report in a real browser: a small suite (passing, failing and skipped configs) runs through
// `vitest run` with the plugin, its output folder is copied elsewhere, and Debian's headless chromium
// opens the copy's report.html from file://. Any request that is not file: or data:, any console error
// or page error fails the test; the overview must have one row per test and sort on a click, every chart
// must have marks, and a full-page screenshot is left next to the copied report (output/report-browser/).
// short-1 gets an SLO (goodput), a gate and concurrencies 1 8 16; short-2 another GPU count; both get two
// earlier runs in history.jsonl (as earlier runs record them), so the trends, the suite's Pareto chart
// and goodput are on the page, and the 1,400 px wide page must hold them without horizontal overflow.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { repoRoot } from '../fixtures/paths.js';
import { launchChromium, type LaunchedBrowser } from './helpers/browser.js';
import { startSuite } from './helpers/suite-run.js';

const SUITES = path.join(repoRoot, 'tests/fixtures/suites');
/** stem → where it comes from and what the run must make of it. */
const CONFIGS = {
  'short-1': { from: 'short', status: 'passed' },
  'short-2': { from: 'short', status: 'passed' },
  'accuracy-drop': { from: 'faults', status: 'failed' },
  crash: { from: 'faults', status: 'failed' },
  'h100-only': { from: 'faults', status: 'skipped' },
} as const;
const testIdOf = (stem: string) => `disagg_stress_${stem}`;
const ARTIFACT = path.join(repoRoot, 'output/report-browser');
const SLO = { ttft_ms: 250, tpot_ms: 40 };
/** Tweaks of the copied configs (YAML path → value). */
const TWEAKS: Record<string, Array<[string[], unknown]>> = {
  'short-1': [
    [['benchmark', 'concurrency_list'], '1 8 16'],
    [['benchmark', 'slo'], SLO],
    [['gates'], [{ metric: 'slo_attainment', limit: 0 }]],
  ],
  'short-2': [[['worker_config', 'gen', 'tensor_parallel_size'], 2]],
};

/** Two earlier runs of a test, as history.jsonl records them (a gated metric with its verdict). */
function earlierRuns(test: string, concurrencies: number[], gated: boolean): string {
  return [1, 2]
    .map((i) =>
      JSON.stringify({
        test,
        runId: `20261201-0${i}0000-seed`,
        endTime: `2026-12-01T${i === 1 ? '09' : '21'}:15:00.000Z`,
        passed: true,
        metrics: Object.fromEntries(
          concurrencies.map((c) => [
            String(c),
            {
              output_throughput: 100 * c + i,
              median_ttft_ms: 50 + i,
              median_tpot_ms: 10 + i,
              ...(gated ? { goodput: c / 2, slo_attainment: 90 + i } : {}),
            },
          ]),
        ),
        verdicts: gated
          ? concurrencies.map((c) => ({
              kind: 'limit',
              metric: 'slo_attainment',
              concurrency: c,
              value: 90 + i,
              bound: 0,
              passed: true,
              message: 'ok',
            }))
          : [],
      }),
    )
    .join('\n');
}

let work: string;
let copied: string;
let runOutput = '';
let browser: LaunchedBrowser | undefined;
let page: Page;
const requests: string[] = [];
const consoleErrors: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'report-browser-'));
  const configDir = path.join(work, 'configs');
  fs.mkdirSync(path.join(configDir, 'disagg/stress'), { recursive: true });
  for (const [stem, c] of Object.entries(CONFIGS)) {
    const doc = parseDocument(
      fs.readFileSync(path.join(SUITES, c.from, 'disagg/stress', `${stem}.yaml`), 'utf8'),
    );
    for (const [at, value] of TWEAKS[stem] ?? []) doc.setIn(at, value);
    fs.writeFileSync(path.join(configDir, 'disagg/stress', `${stem}.yaml`), doc.toString());
  }
  const output = path.join(work, 'output');
  fs.mkdirSync(output, { recursive: true });
  fs.writeFileSync(
    path.join(output, 'history.jsonl'),
    `${earlierRuns(testIdOf('short-1'), [1, 8, 16], true)}\n${earlierRuns(testIdOf('short-2'), [1, 2, 4], false)}\n`,
  );
  const run = startSuite(configDir, output, { DISAGG_BATCH_SIZE: '3' });
  const code = await run.exited;
  runOutput = run.output();
  if (code !== 1) throw new Error(`the suite should fail (two failing configs), exit ${code}:\n${runOutput}`);
  if (!fs.existsSync(path.join(output, 'report.html')))
    throw new Error(`the run wrote no report.html:\n${runOutput}`);
  // The artifact a CI job would upload: the whole folder, opened from somewhere else.
  fs.rmSync(ARTIFACT, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(ARTIFACT), { recursive: true });
  fs.cpSync(output, ARTIFACT, { recursive: true, verbatimSymlinks: true });
  copied = path.join(ARTIFACT, 'report.html');

  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(pathToFileURL(copied).href, { waitUntil: 'load' });
}, 280_000);

afterAll(async () => {
  await browser?.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function rowOrder(): Promise<string[]> {
  return page.$$eval('#overview tbody tr', (rows) => rows.map((r) => r.getAttribute('data-test') ?? ''));
}

describe('report.html in headless chromium', () => {
  it('loads only file: and data: URLs, with no console or page error', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('the overview has one row per test with its status', async () => {
    const rows = await page.$$eval('#overview tbody tr', (trs) =>
      trs.map((r) => ({ id: r.getAttribute('data-test'), status: r.className })),
    );
    const expected = Object.entries(CONFIGS).map(([stem, c]) => ({ id: testIdOf(stem), status: c.status }));
    expect(rows.sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual(
      expected.sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('sorts the overview on a header click, both ways', async () => {
    const ids = Object.keys(CONFIGS).map(testIdOf).sort();
    await page.click('#overview th:has-text("Test")');
    expect(await page.getAttribute('#overview th:has-text("Test")', 'aria-sort')).toBe('ascending');
    expect(await rowOrder()).toEqual(ids);
    await page.click('#overview th:has-text("Test")');
    expect(await rowOrder()).toEqual([...ids].reverse());
    await page.click('#overview th:has-text("Status")');
    const first = await rowOrder();
    expect(first.slice(0, 2).sort()).toEqual([testIdOf('accuracy-drop'), testIdOf('crash')]);
  });

  it('every passing perf test has its three perf charts and an accuracy chart, each with marks', async () => {
    for (const [stem, c] of Object.entries(CONFIGS)) {
      if (c.status !== 'passed') continue;
      const section = `section[data-test="${testIdOf(stem)}"]`;
      const kinds = await page.$$eval(`${section} figure.chart`, (fs) =>
        fs.map((f) => f.getAttribute('data-chart')),
      );
      // Then its trends (history.jsonl has earlier runs of both).
      expect(
        kinds.filter((k) => k !== 'trend'),
        stem,
      ).toEqual(['perf-throughput', 'perf-pareto', 'perf-latency', 'accuracy']);
      expect(kinds.slice(4).every((k) => k === 'trend') && kinds.length > 4, stem).toBe(true);
    }
  });

  it('no chart on the page is empty: each has line, symbol or tick marks', async () => {
    const charts = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => ({
        test: f.closest('section')?.getAttribute('data-test'),
        kind: f.getAttribute('data-chart'),
        marks: f.querySelectorAll(
          'g.mark-line path, g.mark-symbol path, g.mark-rect path, g.mark-rule line, g.mark-text text',
        ).length,
        axes: f.querySelectorAll('g.role-axis-title text').length,
      })),
    );
    expect(charts.length).toBeGreaterThanOrEqual(8);
    expect(charts.filter((c) => c.marks === 0)).toEqual([]);
    // Every chart labels its axes (units are in the titles).
    expect(charts.filter((c) => c.axes === 0)).toEqual([]);
  });

  it('a failed test shows its failure reason and the real log dir (_ERROR)', async () => {
    for (const stem of ['accuracy-drop', 'crash']) {
      const text = await page.textContent(`section[data-test="${testIdOf(stem)}"] .failure`);
      expect(text, stem).toMatch(/Failure:/);
      const logs = /Logs:\s*(\S+)/.exec(text ?? '')?.[1];
      expect(logs, stem).toMatch(/_ERROR$/);
      expect(fs.existsSync(logs ?? ''), `${stem}: ${logs}`).toBe(true);
    }
    const drop = await page.textContent(`section[data-test="${testIdOf('accuracy-drop')}"]`);
    expect(drop).toMatch(/FAILED: observed/);
    expect(
      await page.$$eval(
        `section[data-test="${testIdOf('accuracy-drop')}"] table.data tr.failed`,
        (r) => r.length,
      ),
    ).toBeGreaterThan(0);
  });

  it('a skipped test shows why', async () => {
    const text = await page.textContent(`section[data-test="${testIdOf('h100-only')}"] .skip`);
    expect(text).toMatch(/Skipped:.*H100/);
  });

  it('the page fits 1,400 px: no horizontal overflow, every trend chart inside its grid cell', async () => {
    expect(page.viewportSize()?.width).toBe(1400);
    const widths = await page.evaluate<{ doc: number; view: number }>(
      '({ doc: document.documentElement.scrollWidth, view: document.documentElement.clientWidth })',
    );
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    const boxes = await page.$$eval('.trend-grid figure.chart', (figs) =>
      figs.map((f) => {
        const grid = f.parentElement!.getBoundingClientRect();
        const svg = f.querySelector('svg')!.getBoundingClientRect();
        return { svgRight: svg.right, gridRight: grid.right, svgWidth: svg.width };
      }),
    );
    expect(boxes.length).toBeGreaterThanOrEqual(6);
    for (const b of boxes) {
      expect(b.svgRight).toBeLessThanOrEqual(b.gridRight + 1);
      expect(b.svgWidth).toBeGreaterThan(150);
    }
    // The grid wraps: several charts share a row, and there is more than one row.
    const rows = await page.$$eval(
      `section[data-test="${testIdOf('short-1')}"] .trend-grid figure.chart`,
      (figs) => new Set(figs.map((f) => Math.round(f.getBoundingClientRect().top))).size,
    );
    expect(rows).toBeGreaterThan(1);
  });

  it('trend charts: gated metrics first, concurrencies in numeric order, units on the y axis, UTC times', async () => {
    const trends = await page.$$eval(
      `section[data-test="${testIdOf('short-1')}"] figure[data-chart="trend"]`,
      (figs) =>
        figs.map((f) => ({
          metric: f.getAttribute('data-metric'),
          concurrency: Number(f.getAttribute('data-concurrency')),
          gated: f.getAttribute('data-gated') === 'true',
          yTitle: [...f.querySelectorAll('g.role-axis-title text')].map((t) => t.textContent).join(' | '),
          hover: f.querySelector('path title')?.textContent ?? '',
        })),
    );
    const firstUngated = trends.findIndex((t) => !t.gated);
    expect(firstUngated).toBeGreaterThan(0);
    expect(trends.slice(firstUngated).every((t) => !t.gated)).toBe(true);
    expect(trends.filter((t) => t.gated).map((t) => t.metric)).toEqual(Array(3).fill('slo_attainment'));
    for (const metric of new Set(trends.map((t) => t.metric))) {
      expect(
        trends.filter((t) => t.metric === metric).map((t) => t.concurrency),
        metric!,
      ).toEqual([1, 8, 16]);
    }
    const tput = trends.find((t) => t.metric === 'output_throughput');
    expect(tput?.yTitle).toMatch(/output throughput \(tok\/s\)/);
    expect(tput?.yTitle).toMatch(/run end \(UTC\)/);
    expect(trends.find((t) => t.metric === 'median_ttft_ms')?.yTitle).toMatch(/median TTFT \(ms\)/);
    expect(trends.every((t) => !/\bvalue\b/.test(t.yTitle))).toBe(true);
    // Hover: the run id and a 24-hour time (21:15 UTC is the seeded second run).
    const hovers = await page.$$eval(
      `section[data-test="${testIdOf('short-1')}"] figure[data-chart="trend"] path title`,
      (ts) => ts.map((t) => t.textContent ?? ''),
    );
    expect(hovers.some((h) => h.includes('run id: 20261201-020000-seed') && h.includes('21:15'))).toBe(true);
  });

  it('every trend y axis: ≥ 3 distinct tick labels, none overlapping another or the axis title', async () => {
    const axes = await page.$$eval('figure[data-chart="trend"]', (figs) =>
      figs.map((f) => {
        const axis = f.querySelector('g.role-axis[aria-label^="Y-axis"]')!;
        // Structural: the unit config has no DOM types.
        const box = (e: {
          getBoundingClientRect(): { top: number; bottom: number; left: number; right: number };
        }) => {
          const r = e.getBoundingClientRect();
          return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
        };
        return {
          title: f.querySelector('figcaption')?.textContent ?? '',
          svgLeft: box(f.querySelector('svg')!).left,
          labels: [...axis.querySelectorAll(':scope > text')].map((t) => ({
            text: t.textContent,
            ...box(t),
          })),
          yTitle: box(axis.querySelector('g.role-axis-title text')!),
        };
      }),
    );
    expect(axes.length).toBeGreaterThanOrEqual(6);
    for (const a of axes) {
      const texts = a.labels.map((l) => l.text);
      expect(new Set(texts).size, `${a.title}: ${texts.join(', ')}`).toBe(texts.length);
      expect(texts.length, a.title).toBeGreaterThanOrEqual(3);
      const byTop = [...a.labels].sort((p, q) => p.top - q.top);
      for (let i = 1; i < byTop.length; i++)
        expect(byTop[i]!.top, a.title).toBeGreaterThanOrEqual(byTop[i - 1]!.bottom - 0.5);
      expect(a.yTitle.right, a.title).toBeLessThanOrEqual(Math.min(...a.labels.map((l) => l.left)));
      expect(a.yTitle.left, a.title).toBeGreaterThanOrEqual(a.svgLeft);
    }
  });

  it("the suite's Pareto chart has marks and its frontier table names configs of the run", async () => {
    const groups = await page.$$eval('.pareto', (ps) =>
      ps.map((p) => ({
        workload: p.getAttribute('data-workload'),
        marks: p.querySelectorAll('figure[data-chart="suite-pareto"] path[aria-roledescription="point"]')
          .length,
        frontier: [...p.querySelectorAll('table.frontier tbody tr')].map((r) =>
          [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''),
        ),
      })),
    );
    expect(groups.map((g) => g.workload)).toEqual(['sim-fault · 256/256']);
    const [g] = groups;
    // Every config of the run with perf results: short-1 (3 concurrencies), short-2 (3) and
    // accuracy-drop (2; its accuracy failed, its perf is measured): 8 points.
    expect(g.marks).toBe(8);
    expect(g.frontier.length).toBeGreaterThan(0);
    expect(g.frontier.length).toBeLessThanOrEqual(8);
    const perf = ['short-1', 'short-2', 'accuracy-drop'].map(testIdOf);
    for (const [config, status, concurrency, perGpu, perUser] of g.frontier) {
      expect(perf).toContain(config);
      expect(status).toBe(config === testIdOf('accuracy-drop') ? 'failed' : 'passed');
      expect(Number(concurrency)).toBeGreaterThan(0);
      expect(Number(perGpu.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(Number(perUser.replace(/,/g, ''))).toBeGreaterThan(0);
    }
  });

  it('goodput and SLO attainment where an SLO is set, and nowhere else', async () => {
    const tableOf = async (stem: string) =>
      page.$$eval(`section[data-test="${testIdOf(stem)}"] table.data`, (tables) => {
        const t = tables[0];
        const head = [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
        const rows = [...t.querySelectorAll('tbody tr')].map((r) =>
          [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''),
        );
        return { head, rows };
      });
    const one = await tableOf('short-1');
    const gi = one.head.indexOf('goodput (req/s)');
    const ai = one.head.indexOf('SLO attainment');
    expect(gi).toBeGreaterThan(0);
    expect(ai).toBeGreaterThan(0);
    expect(one.rows.map((r) => Number(r[0]))).toEqual([1, 8, 16]);
    const reqs = one.head.indexOf('req/s');
    const attainment = (r: string[]) => Number(r[ai].replace(' %', ''));
    // Alone (concurrency 1) every request's TTFT is far below 250 ms; at 16 most wait in the queue.
    expect(attainment(one.rows[0])).toBe(100);
    expect(attainment(one.rows[2])).toBeLessThan(100);
    for (const r of one.rows) expect(Number(r[gi])).toBeLessThanOrEqual(Number(r[reqs]) + 0.001);
    for (const r of one.rows) {
      expect(Number(r[gi])).toBeGreaterThanOrEqual(0);
      const att = Number(r[ai].replace(' %', ''));
      expect(att).toBeGreaterThanOrEqual(0);
      expect(att).toBeLessThanOrEqual(100);
    }
    expect(await page.textContent(`section[data-test="${testIdOf('short-1')}"] .slo`)).toContain(
      'TTFT ≤ 250 ms, TPOT ≤ 40 ms',
    );
    const two = await tableOf('short-2');
    expect(two.head).not.toContain('goodput (req/s)');
  });

  it('writes a full-page PNG screenshot next to the report', async () => {
    const png = path.join(path.dirname(copied), 'report.png');
    fs.rmSync(png, { force: true });
    await page.screenshot({ path: png, fullPage: true });
    const head = fs.readFileSync(png).subarray(0, 8);
    expect(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(fs.statSync(png).size).toBeGreaterThan(50_000);
    console.log(`[report-browser] screenshot: ${png}`);
  });
});
