import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendPerfRows, perfCsvHeader, perfCsvPath, siblingCsvPath } from '../../../src/results/csv.js';
import { PERF_CSV_COLUMNS, perfRowsFor, type PerfRow } from '../../../src/results/perf-rows.js';

const rows = (c: number): PerfRow[] =>
  perfRowsFor({
    testId: 'disagg_perf_x',
    category: 'perf',
    testType: 'disagg',
    blocks: [
      {
        concurrency: c,
        completed: true,
        warmup: false,
        metrics: { median_ttft_ms: 1.5, median_e2el_ms: 20 },
      },
    ],
    gpuType: 'GB200',
    config: { metadata: { model_name: 'm', precision: 'fp8' } },
  });

describe('appendPerfRows', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'csv-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the header once, then appends', async () => {
    const csv = perfCsvPath(path.join(dir, 'out'));
    expect(await appendPerfRows(csv, rows(4))).toEqual({ file: csv, written: 2 });
    await appendPerfRows(csv, rows(8));
    const text = await readFile(csv, 'utf8');
    expect(text.split('\n')[0]).toBe(PERF_CSV_COLUMNS.join(','));
    expect(text.endsWith('\n')).toBe(true);
    const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
    expect(parsed.data.map((r) => [r.test_name, r.metric_type, r.perf_metric, r.sm_clk])).toEqual([
      ['test_benchmark[disagg_perf_x]_con:4', 'SERVER_MEDIAN_TTFT', '1.5', '2062'],
      ['test_benchmark[disagg_perf_x]_con:4', 'SERVER_MEDIAN_E2EL', '20', '2062'],
      ['test_benchmark[disagg_perf_x]_con:8', 'SERVER_MEDIAN_TTFT', '1.5', '2062'],
      ['test_benchmark[disagg_perf_x]_con:8', 'SERVER_MEDIAN_E2EL', '20', '2062'],
    ]);
    // The lock dir is gone after each append.
    expect(await readdir(path.dirname(csv))).toEqual(['perf_script_test_results.csv']);
  });

  it('appends to an existing file with the same header (also one lacking a final newline or empty)', async () => {
    const csv = path.join(dir, 'perf_script_test_results.csv');
    await writeFile(csv, '');
    await appendPerfRows(csv, rows(1));
    const first = await readFile(csv, 'utf8');
    await writeFile(csv, first.trimEnd());
    await appendPerfRows(csv, rows(2));
    const lines = (await readFile(csv, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l === perfCsvHeader())).toHaveLength(1);
  });

  it('never touches a CSV with a different header: writes a sibling and warns', async () => {
    const csv = path.join(dir, 'perf_script_test_results.csv');
    const foreign = 'network_name,turtle_case_name,raw_result,perf_metric\na,b,c,1\n';
    await writeFile(csv, foreign);
    const res = await appendPerfRows(csv, rows(4));
    expect(await readFile(csv, 'utf8')).toBe(foreign);
    expect(res.file).toBe(siblingCsvPath(csv, perfCsvHeader()));
    expect(path.basename(res.file)).toMatch(/^perf_script_test_results\.[0-9a-f]{8}\.csv$/);
    expect(res.warning).toMatch(/different header.*left untouched.*2 row\(s\) were written to/);
    const again = await appendPerfRows(csv, rows(8));
    expect(again.file).toBe(res.file);
    const sib = await readFile(res.file, 'utf8');
    expect(sib.split('\n').filter((l) => l === perfCsvHeader())).toHaveLength(1);
    expect(sib.trimEnd().split('\n')).toHaveLength(5);
  });

  it('an empty batch writes nothing', async () => {
    const csv = path.join(dir, 'p.csv');
    expect(await appendPerfRows(csv, [])).toEqual({ file: csv, written: 0 });
    expect(await readdir(dir)).toEqual([]);
  });
});
