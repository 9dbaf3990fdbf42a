// `disagg compare` end to end on the real TensorRT-LLM perf CSV: against itself nothing regresses
// (exit 0); a copy with one latency × 1.10 gives exactly one regression (exit 1); --json shape; errors.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/paths.js';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';

const realCsv = fixturePath('trtllm', 'perf_script_test_results.csv');

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

async function disagg(argv: string[], cwd = '/'): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, cwd };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

interface JsonRow {
  test: string;
  concurrency: number;
  metric: string;
  baseline: number | null;
  baselineRuns: number;
  current: number | null;
  delta: number | null;
  noise: number | null;
  allowed: number | null;
  verdict: string;
}

describe('disagg compare', () => {
  let dir: string;
  let slower: string;
  let changed: { test: string; metric: string; before: number; after: number };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cli-compare-'));
    const parsed = Papa.parse<string[]>(await readFile(realCsv, 'utf8'), { skipEmptyLines: true });
    const [header, ...rows] = parsed.data;
    const col = (name: string): number => header.indexOf(name);
    // One latency (a TTFT row in the middle of the file) × 1.10, everything else untouched.
    const i = rows.findIndex((r, k) => k >= 5 && r[col('metric_type')] === 'DISAGG_SERVER_TTFT');
    const before = Number(rows[i][col('perf_metric')]);
    const after = Number((before * 1.1).toFixed(2));
    rows[i][col('perf_metric')] = String(after);
    changed = { test: rows[i][col('test_name')], metric: rows[i][col('metric_type')], before, after };
    slower = path.join(dir, 'slower.csv');
    await writeFile(slower, `${Papa.unparse([header, ...rows], { newline: '\n' })}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the real CSV against itself (same path or a byte-identical copy): identical, 0 regressions, exit 0', async () => {
    const note =
      'the inputs are identical: 0 regressions by definition ' +
      '(`disagg compare <input>` judges its latest run against its earlier runs)';
    const copy = path.join(dir, 'copy.csv');
    await writeFile(copy, await readFile(realCsv));
    for (const other of [realCsv, copy]) {
      const out = await disagg(['compare', realCsv, other]);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(out.stdout).toContain(note);
      expect(out.stdout).toMatch(/^no verdicts$/m);
      expect(out.stdout).toMatch(/^0 rows: nothing to compare; 0 regressions$/m);
      const json = await disagg(['compare', realCsv, other, '--json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ rows: [], regressions: 0, identical: true, note });
    }
    // One input alone: its latest run against the earlier ones; the CSV holds one run.
    const one = await disagg(['compare', realCsv]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('one run only: nothing earlier to compare with');
  });

  it('a copy with one latency × 1.10: exactly 1 regression, exit 1, worst row first', async () => {
    const out = await disagg(['compare', realCsv, slower]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^104 rows: 1 regressed, 103 unchanged; 1 regression$/m);
    const lines = out.stdout.split('\n');
    const headerAt = lines.findIndex((l) => l.startsWith('verdict'));
    expect(lines[headerAt + 1]).toMatch(/^regressed\s+\+10\.0 %\s+±5\.0 %/);
    expect(out.stdout).toContain(
      `${changed.test.replace(/_con:\d+$/, '')}: ${changed.metric} at concurrency ${/_con:(\d+)$/.exec(changed.test)?.[1]}: `,
    );
    expect(out.stdout).toMatch(
      /is 10\.0 % above the baseline [\d,.]+ \(1 run, noise not measured\); allowed \+5\.0 % → FAILED/,
    );
  });

  it('--json: the documented row shape, baseline = median, delta a fraction', async () => {
    const out = await disagg(['compare', realCsv, slower, '--json']);
    expect(out.code).toBe(1);
    const data = JSON.parse(out.stdout) as { rows: JsonRow[]; regressions: number };
    expect(Object.keys(data)).toEqual(['rows', 'regressions']);
    expect(data.regressions).toBe(1);
    const [worst] = data.rows;
    expect(Object.keys(worst)).toEqual([
      'test',
      'concurrency',
      'metric',
      'baseline',
      'baselineRuns',
      'current',
      'delta',
      'noise',
      'allowed',
      'verdict',
    ]);
    expect(worst).toMatchObject({
      test: changed.test.replace(/_con:\d+$/, ''),
      concurrency: Number(/_con:(\d+)$/.exec(changed.test)?.[1]),
      metric: changed.metric,
      baseline: changed.before,
      baselineRuns: 1,
      current: changed.after,
      noise: 0,
      allowed: 0.05,
      verdict: 'regressed',
    });
    expect(worst.delta).toBeCloseTo((changed.after - changed.before) / changed.before, 12);
    expect(data.rows.filter((r) => r.verdict === 'regressed')).toHaveLength(1);
  });

  it('--tolerance above the change: no regression; the flags are fractions', async () => {
    const out = await disagg(['compare', realCsv, slower, '--tolerance', '0.11', '--json']);
    expect(out.code).toBe(0);
    expect((JSON.parse(out.stdout) as { regressions: number }).regressions).toBe(0);
    const reversed = await disagg(['compare', slower, realCsv, '--json']);
    expect(reversed.code).toBe(0);
    const rows = (JSON.parse(reversed.stdout) as { rows: JsonRow[] }).rows;
    expect(rows.filter((r) => r.verdict === 'improved')).toHaveLength(1);
  });

  it('--min-runs above the runs: insufficient, no regression', async () => {
    const out = await disagg(['compare', realCsv, slower, '--min-runs', '2', '--json']);
    expect(out.code).toBe(0);
    const rows = (JSON.parse(out.stdout) as { rows: JsonRow[] }).rows;
    expect(new Set(rows.map((r) => r.verdict))).toEqual(new Set(['insufficient']));
  });

  it('an output dir (history.jsonl) against a results.json: names meet, history runs form the baseline', async () => {
    const out = path.join(dir, 'out');
    const logDir = path.join(dir, 'log');
    const run = (day: number, ttft: number, passed = true): string =>
      `${JSON.stringify({ test: 'disagg_perf_x', endTime: `2026-01-0${day}T00:00:00Z`, passed, metrics: { '8': { median_ttft_ms: ttft, output_throughput: 1000 } } })}\n`;
    await mkdir(out);
    await mkdir(logDir);
    await writeFile(
      path.join(out, 'history.jsonl'),
      run(1, 100) + run(2, 102) + run(3, 98) + run(4, 500, false) + run(5, 101),
    );
    await writeFile(
      path.join(logDir, 'results.json'),
      JSON.stringify({
        testId: 'disagg_perf_x',
        perf: {
          blocks: [
            {
              concurrency: 8,
              completed: true,
              warmup: false,
              metrics: { median_ttft_ms: 112, output_throughput: 1000 },
            },
          ],
        },
      }),
    );
    const res = await disagg(['compare', 'out', 'log', '--json'], dir);
    expect(res.code).toBe(1);
    const data = JSON.parse(res.stdout) as { rows: JsonRow[]; regressions: number };
    // passed runs 100 102 98 101: median 100.5; |x − m| 0.5 1.5 2.5 0.5 → MAD 1; noise 1.4826 / 100.5
    expect(data.rows[0]).toMatchObject({
      metric: 'median_ttft_ms',
      baseline: 100.5,
      baselineRuns: 4,
      current: 112,
      verdict: 'regressed',
    });
    expect(data.rows[0].noise).toBeCloseTo(1.4826 / 100.5, 12);
    expect(data.rows[1]).toMatchObject({ metric: 'output_throughput', verdict: 'unchanged' });
    expect(data.regressions).toBe(1);
  });

  it('bad usage and bad input exit 2; with --json the error is {"error": …} on stdout', async () => {
    const missing = await disagg(['compare', realCsv, '/no/such.csv', '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toEqual({ error: '/no/such.csv: no such file or directory' });
    const text = await disagg(['compare', realCsv, '/no/such.csv']);
    expect(text.code).toBe(2);
    expect(text.stderr).toBe('disagg compare: /no/such.csv: no such file or directory\n');
    const three = await disagg(['compare', realCsv, realCsv, realCsv, '--json']);
    expect(three.code).toBe(2);
    expect((JSON.parse(three.stdout) as { error: string }).error).toMatch(
      /^expected <baseline> <current>, or one <input> \(its latest run against its earlier runs\), got 3 path/,
    );
    const pct = await disagg(['compare', realCsv, realCsv, '--tolerance', '5']);
    expect(pct.code).toBe(2);
    expect(pct.stderr).toMatch(/--tolerance must be a fraction from 0 to below 1 \(0.05 = 5 %\), got '5'/);
    const runs = await disagg(['compare', realCsv, realCsv, '--runs', '2.5', '--json']);
    expect(runs.code).toBe(2);
    expect(JSON.parse(runs.stdout)).toEqual({ error: "--runs must be a whole number ≥ 0, got '2.5'" });
    const flag = await disagg(['compare', realCsv, realCsv, '--what']);
    expect(flag.code).toBe(2);
    const notCsv = await disagg(['compare', realCsv, fixturePath('trtllm', 'SOURCE.md'), '--json']);
    expect(notCsv.code).toBe(2);
    expect((JSON.parse(notCsv.stdout) as { error: string }).error).toMatch(/SOURCE.md: not a perf CSV: /);
  });

  describe('one output dir: its latest run against its earlier runs', () => {
    const rec = (day: number, ttft: number, std: number, passed = true): string =>
      `${JSON.stringify({ test: 'disagg_perf_x', endTime: `2026-02-0${day}T00:00:00Z`, passed, metrics: { '8': { median_ttft_ms: ttft, std_ttft_ms: std, output_throughput: 1000 }, '16': { median_ttft_ms: ttft * 2 } } })}\n`;
    let out: string;
    beforeAll(async () => {
      out = path.join(dir, 'hist');
      await mkdir(out);
      await writeFile(
        path.join(out, 'history.jsonl'),
        rec(1, 100, 5) + rec(2, 102, 5) + rec(3, 98, 5) + rec(4, 500, 5, false) + rec(5, 120, 50),
      );
    });

    it('the dir alone: baseline = earlier runs, current = the latest; the dir twice: identical, exit 0', async () => {
      for (const input of ['hist', 'hist/history.jsonl']) {
        const res = await disagg(['compare', input, '--json'], dir);
        expect(res.code).toBe(1);
        const data = JSON.parse(res.stdout) as { rows: JsonRow[]; regressions: number; identical?: boolean };
        expect(data.identical).toBeUndefined();
        // earlier passed runs 100 102 98 (the failed 500 is no baseline); the latest 120 is not among them
        const ttft8 = data.rows.find((r) => r.metric === 'median_ttft_ms' && r.concurrency === 8);
        expect(ttft8).toMatchObject({ baseline: 100, baselineRuns: 3, current: 120, verdict: 'regressed' });
        // std_ttft_ms 5 → 50: shown, not a regression
        expect(data.rows.find((r) => r.metric === 'std_ttft_ms')).toMatchObject({
          baseline: 5,
          current: 50,
          verdict: 'shown',
          allowed: null,
        });
        expect(data.regressions).toBe(2); // median_ttft_ms at 8 and at 16
      }
      const text = await disagg(['compare', 'hist'], dir);
      expect(text.stdout).toContain('its latest run against its earlier runs');
      expect(text.stdout).not.toMatch(/std_ttft_ms.*FAILED/);
      for (const other of ['hist', 'hist/history.jsonl']) {
        const same = await disagg(['compare', 'hist', other], dir);
        expect(same.code).toBe(0);
        expect(same.stdout).toMatch(/^0 rows: nothing to compare; 0 regressions$/m);
      }
    });

    it('--metric and --concurrency: repeatable or comma-separated; a bad concurrency exits 2', async () => {
      const rows = async (...flags: string[]): Promise<JsonRow[]> => {
        const res = await disagg(['compare', 'hist', '--json', ...flags], dir);
        return (JSON.parse(res.stdout) as { rows: JsonRow[] }).rows;
      };
      const keys = (rs: JsonRow[]): string[] => rs.map((r) => `${r.metric}@${r.concurrency}`).sort();
      expect(keys(await rows('--metric', 'median_ttft_ms'))).toEqual([
        'median_ttft_ms@16',
        'median_ttft_ms@8',
      ]);
      expect(keys(await rows('--concurrency', '8'))).toEqual([
        'median_ttft_ms@8',
        'output_throughput@8',
        'std_ttft_ms@8',
      ]);
      const both = ['median_ttft_ms@8', 'output_throughput@8'];
      expect(keys(await rows('--metric', 'median_ttft_ms,output_throughput', '--concurrency', '8'))).toEqual(
        both,
      );
      expect(
        keys(await rows('--metric', 'median_ttft_ms', '--metric', 'output_throughput', '--concurrency', '8')),
      ).toEqual(both);
      expect(keys(await rows('--concurrency', '8,16', '--metric', 'median_ttft_ms'))).toEqual([
        'median_ttft_ms@16',
        'median_ttft_ms@8',
      ]);
      const ok = await disagg(['compare', 'hist', '--metric', 'output_throughput'], dir);
      expect(ok.code).toBe(0);
      const bad = await disagg(['compare', 'hist', '--concurrency', 'x8', '--json'], dir);
      expect(bad.code).toBe(2);
      expect(JSON.parse(bad.stdout)).toEqual({ error: "--concurrency must be a whole number ≥ 0, got 'x8'" });
    });

    it('a dir with one run: nothing earlier to compare with, exit 0, no verdicts', async () => {
      const single = path.join(dir, 'single');
      await mkdir(single);
      await writeFile(path.join(single, 'history.jsonl'), rec(1, 100, 5));
      const res = await disagg(['compare', 'single'], dir);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('nothing earlier to compare with');
      expect(res.stdout).toMatch(/^no verdicts$/m);
    });

    it('a copy of the history as baseline: the current latest run is not its own baseline', async () => {
      const copy = path.join(dir, 'hist-copy.jsonl');
      const text = await readFile(path.join(out, 'history.jsonl'), 'utf8');
      await writeFile(copy, `${text}\n`); // not byte-identical
      const res = await disagg(
        ['compare', 'hist-copy.jsonl', 'hist', '--json', '--metric', 'median_ttft_ms'],
        dir,
      );
      const data = JSON.parse(res.stdout) as { rows: JsonRow[]; identical?: boolean };
      expect(data.identical).toBeUndefined();
      expect(data.rows.find((r) => r.concurrency === 8)).toMatchObject({
        baseline: 100,
        baselineRuns: 3,
        current: 120,
        verdict: 'regressed',
      });
    });
  });
});
