// The HTML report in a real browser: a small suite (passing, failing and skipped configs) runs through
// `vitest run` with the plugin, its output folder is copied elsewhere, and Debian's headless chromium
// opens the copy's report.html from file://. Any request that is not file: or data:, any console error
// or page error fails the test; the overview must have one row per test and sort on a click, every chart
// must have marks, and a full-page screenshot is left next to the copied report (output/report-browser/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    fs.copyFileSync(
      path.join(SUITES, c.from, 'disagg/stress', `${stem}.yaml`),
      path.join(configDir, 'disagg/stress', `${stem}.yaml`),
    );
  }
  const output = path.join(work, 'output');
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
      expect(kinds, stem).toEqual(['perf-throughput', 'perf-pareto', 'perf-latency', 'accuracy']);
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
