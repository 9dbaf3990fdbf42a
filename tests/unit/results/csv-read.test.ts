// The one perf CSV reader (src/results/csv.ts): the original's real CSV, our own rows round-tripped in
// local time (as the original writes it), explicit zones, and `disagg report` and `disagg compare` agreeing on the same file's times.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/paths.js';
import { parseCsvTimestamp, perfCsvHeader, readPerfCsvText } from '../../../src/results/csv.js';
import { samplesFromCsv } from '../../../src/results/compare-inputs.js';
import { formatTimestamp, PERF_CSV_COLUMNS, perfRowsFor } from '../../../src/results/perf-rows.js';
import { testsFromCsvText } from '../../../src/report/from-csv.js';
import Papa from 'papaparse';

const REAL_CSV = fixturePath('trtllm/perf_script_test_results.csv');

// A zone far from UTC, so that reading or writing local time anywhere shows up as an offset.
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'America/New_York';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('parseCsvTimestamp', () => {
  it('reads a zone-less timestamp as local time, honours an explicit zone, and rejects nonsense', () => {
    // New York is UTC-4 on that day: local 01:05:36 is 05:05:36 UTC.
    expect(parseCsvTimestamp('2025-10-31 01:05:36')).toBe(Date.UTC(2025, 9, 31, 5, 5, 36));
    expect(parseCsvTimestamp('2025-10-31T01:05:36Z')).toBe(Date.UTC(2025, 9, 31, 1, 5, 36));
    expect(parseCsvTimestamp('2025-10-31 03:05:36 +0200')).toBe(Date.UTC(2025, 9, 31, 1, 5, 36));
    expect(parseCsvTimestamp('2025-10-30 20:05:36 -05:00')).toBe(Date.UTC(2025, 9, 31, 1, 5, 36));
    expect(parseCsvTimestamp('')).toBeNull();
    expect(parseCsvTimestamp('2025-13-01 00:00:00')).toBeNull();
    expect(parseCsvTimestamp('yesterday')).toBeNull();
  });

  it('gives back the instant our writer formatted (local time), whatever the local zone', () => {
    const t = new Date(Date.UTC(2026, 1, 3, 23, 59, 58));
    expect(parseCsvTimestamp(formatTimestamp(t))).toBe(t.getTime());
  });
});

describe('readPerfCsvText', () => {
  it('reads every row of the original framework’s real CSV', async () => {
    const rows = readPerfCsvText(await readFile(REAL_CSV, 'utf8'), REAL_CSV);
    expect(rows).toHaveLength(104);
    const first = rows[0];
    expect(first).toMatchObject({
      line: 2,
      test: 'test_benchmark[disagg_perf_file:deepseek-r1-fp4_015_8k1k_dep:16_bs:64_mtp:0_ccbackend:UCX]',
      concurrency: 1075,
      metric: 'DISAGG_SERVER_TTFT',
      value: 1122.63,
      state: 'valid',
      startTime: new Date(2025, 9, 31, 0, 53, 53).getTime(),
      endTime: new Date(2025, 9, 31, 1, 5, 36).getTime(),
    });
  });

  it('keeps a row of another state (value null when not a number); a valid row must be complete, else it is skipped with a notice', () => {
    const head = 'test_name,perf_metric,metric_type,state';
    expect(
      readPerfCsvText(`${head}\nt_con:4,,M,failed\njunk,,M,failed\n`, 'a.csv').map((r) => [
        r.test,
        r.value,
        r.state,
      ]),
    ).toEqual([['t', null, 'failed']]);
    const notices: string[] = [];
    expect(
      readPerfCsvText(`${head}\nt_con:4,,M,valid\nt_con:8,3,M,valid\n`, 'b.csv', (n) => notices.push(n)),
    ).toHaveLength(1);
    expect(readPerfCsvText(`${head}\nt_con:4,1,,valid\n`, 'c.csv', (n) => notices.push(n))).toEqual([]);
    expect(notices).toEqual([
      expect.stringContaining('b.csv: skipped 1 damaged line(s) (line 2: perf_metric "" is not a number)'),
      expect.stringContaining('c.csv: skipped 1 damaged line(s) (line 2: metric_type is empty)'),
    ]);
    // Without a state column every row is a measurement.
    expect(readPerfCsvText('perf_case_name,perf_metric,metric_type\nt_con:1,2,M\n', 'd.csv')[0]?.state).toBe(
      'valid',
    );
  });

  it('report and compare read the same end time from the same rows (they once disagreed by the local offset)', () => {
    const rows = perfRowsFor({
      testId: 'disagg_perf_x',
      category: 'perf',
      testType: 'disagg',
      blocks: [{ concurrency: 4, completed: true, warmup: false, metrics: { median_ttft_ms: 1.5 } }],
      config: { metadata: { model_name: 'm', precision: 'fp8' } },
      startedAt: new Date(Date.UTC(2026, 0, 1, 10, 0, 0)),
      endedAt: new Date(Date.UTC(2026, 0, 1, 10, 5, 0)),
    });
    const text = `${perfCsvHeader()}\n${Papa.unparse(
      rows.map((r) => PERF_CSV_COLUMNS.map((c) => r[c])),
      { newline: '\n' },
    )}\n`;
    const [test] = testsFromCsvText(text, 'ours.csv');
    const [sample] = samplesFromCsv(text, 'ours.csv');
    expect(test?.endedAt).toBe('2026-01-01T10:05:00.000Z');
    expect(sample?.endTime).toBe(Date.UTC(2026, 0, 1, 10, 5, 0));
    expect(test?.runMs).toBe(300_000);
  });
});
