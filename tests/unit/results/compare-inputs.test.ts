// Reading the sides of a comparison: the real TensorRT-LLM perf CSV, our own CSV rows, history.jsonl
// and results.json, and how names of different kinds meet.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixturePath } from '../../fixtures/paths.js';
import { appendPerfRows, perfCsvPath } from '../../../src/results/csv.js';
import {
  canonicalMetricName,
  canonicalTestName,
  readCompareInput,
  sampleKey,
  samplesFromCsv,
} from '../../../src/results/compare-inputs.js';
import {
  formatHistoryRecord,
  historyPath,
  parseHistory,
  type HistoryRecord,
} from '../../../src/results/history.js';
import { perfRowsFor } from '../../../src/results/perf-rows.js';
import { PERF_CSV_COLUMNS } from '../../../src/results/perf-rows.js';

const realCsv = fixturePath('trtllm', 'perf_script_test_results.csv');

describe('compare inputs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'compare-in-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the real CSV: test before _con:, N of _con:N, metric_type, end_timestamp', async () => {
    const input = await readCompareInput(realCsv);
    expect(input.kind).toBe('csv');
    expect(input.samples).toHaveLength(104);
    expect(input.samples[0]).toEqual({
      test: 'test_benchmark[disagg_perf_file:deepseek-r1-fp4_015_8k1k_dep:16_bs:64_mtp:0_ccbackend:UCX]',
      concurrency: 1075,
      metric: 'DISAGG_SERVER_TTFT',
      value: 1122.63,
      endTime: new Date(2025, 9, 31, 1, 5, 36).getTime(),
      passed: true,
    });
  });

  it('keeps only state = valid; a row without _con: or with a bad value is skipped, naming file:line', () => {
    const header = PERF_CSV_COLUMNS.join(',');
    const row = (name: string, value: string, state: string): string =>
      PERF_CSV_COLUMNS.map((c) =>
        c === 'test_name'
          ? name
          : c === 'perf_metric'
            ? value
            : c === 'state'
              ? state
              : c === 'metric_type'
                ? 'M'
                : c === 'end_timestamp'
                  ? '2026-01-01 00:00:00'
                  : '',
      ).join(',');
    const text = [
      header,
      row('t_con:4', '1', 'valid'),
      row('t_con:8', '2', 'invalid'),
      row('junk', 'x', 'failed'),
    ].join('\n');
    expect(samplesFromCsv(text, 'a.csv').map((s) => [s.test, s.concurrency, s.value])).toEqual([['t', 4, 1]]);
    const notices: string[] = [];
    const keep = (n: string) => notices.push(n);
    expect(samplesFromCsv([header, row('t', '1', 'valid')].join('\n'), 'b.csv', keep)).toEqual([]);
    expect(samplesFromCsv([header, row('t_con:1', 'n/a', 'valid')].join('\n'), 'c.csv', keep)).toEqual([]);
    expect(notices).toEqual([
      expect.stringContaining(
        'b.csv: skipped 1 damaged line(s) (line 2: test_name "t" does not end in _con:<concurrency>',
      ),
      expect.stringContaining('c.csv: skipped 1 damaged line(s) (line 2: perf_metric "n/a" is not a number'),
    ]);
    expect(() => samplesFromCsv('a,b\n1,2\n', 'd.csv')).toThrow(
      /^d.csv: not a perf CSV: column\(s\) test_name, perf_metric, metric_type missing/,
    );
  });

  it('reads our own CSV rows as written by appendPerfRows', async () => {
    const csv = perfCsvPath(dir);
    await appendPerfRows(
      csv,
      perfRowsFor({
        testId: 'disagg_stress_x',
        category: 'stress',
        testType: 'disagg',
        blocks: [
          {
            concurrency: 4,
            completed: true,
            warmup: false,
            metrics: { median_ttft_ms: 12.5, median_e2el_ms: 300 },
          },
        ],
        config: {},
        endedAt: new Date(2026, 0, 2, 3, 4, 5),
      }),
    );
    const input = await readCompareInput(dir); // an output dir without history: its CSV
    expect(input.file).toBe(csv);
    expect(input.samples.map((s) => [s.test, s.concurrency, s.metric, s.value, s.endTime])).toEqual([
      [
        'test_stress[disagg_stress_x]',
        4,
        'SERVER_MEDIAN_TTFT',
        12.5,
        new Date(2026, 0, 2, 3, 4, 5).getTime(),
      ],
      ['test_stress[disagg_stress_x]', 4, 'SERVER_MEDIAN_E2EL', 300, new Date(2026, 0, 2, 3, 4, 5).getTime()],
    ]);
  });

  it('an output dir with history.jsonl reads the history (one record per run), before the CSV', async () => {
    await writeFile(perfCsvPath(dir), await readFile(realCsv, 'utf8'));
    const records: HistoryRecord[] = [
      {
        test: 'x',
        endTime: '2026-01-01T00:00:00Z',
        passed: true,
        metrics: { '4': { median_ttft_ms: 10, output_throughput: 99 } },
      },
      { test: 'x', endTime: '2026-01-02T00:00:00Z', passed: false, metrics: { '4': { median_ttft_ms: 30 } } },
    ];
    await writeFile(historyPath(dir), records.map(formatHistoryRecord).join('') + '\n');
    const input = await readCompareInput(dir);
    expect(input.kind).toBe('history');
    expect(input.samples).toEqual([
      {
        test: 'x',
        concurrency: 4,
        metric: 'median_ttft_ms',
        value: 10,
        endTime: Date.parse('2026-01-01T00:00:00Z'),
        passed: true,
      },
      {
        test: 'x',
        concurrency: 4,
        metric: 'output_throughput',
        value: 99,
        endTime: Date.parse('2026-01-01T00:00:00Z'),
        passed: true,
      },
      {
        test: 'x',
        concurrency: 4,
        metric: 'median_ttft_ms',
        value: 30,
        endTime: Date.parse('2026-01-02T00:00:00Z'),
        passed: false,
      },
    ]);
  });

  it('a bad history line names the file, the line and the shape', () => {
    expect(() =>
      parseHistory(
        '{"test":"x","endTime":"2026-01-01T00:00:00Z","passed":true,"metrics":{}}\n{oops',
        'h.jsonl',
      ),
    ).toThrow(
      /^h.jsonl:2: not JSON .*; each line must be \{"test": string, "endTime": ISO time, "passed": boolean,/,
    );
    expect(() => parseHistory('{"test":"x","endTime":"soon","passed":true,"metrics":{}}', 'h.jsonl')).toThrow(
      /^h.jsonl:1: "endTime" "soon" is not a time/,
    );
    expect(() =>
      parseHistory('{"test":"x","endTime":"2026-01-01","passed":1,"metrics":{}}', 'h.jsonl'),
    ).toThrow(/"passed" is not true or false/);
    expect(() =>
      parseHistory('{"test":"x","endTime":"2026-01-01","passed":true,"metrics":{"4":{"a":"1"}}}', 'h.jsonl'),
    ).toThrow(/"metrics.4.a" is not a number/);
  });

  it('reads a results.json: completed, non-warm-up blocks', async () => {
    const file = path.join(dir, 'results.json');
    await writeFile(
      file,
      JSON.stringify({
        testId: 'disagg_perf_y',
        perf: {
          blocks: [
            { concurrency: 1, completed: true, warmup: true, metrics: { median_ttft_ms: 1 } },
            {
              concurrency: 4,
              completed: true,
              warmup: false,
              metrics: { median_ttft_ms: 20, output_throughput: 500 },
            },
            { concurrency: 8, completed: false, warmup: false, metrics: { median_ttft_ms: 30 } },
          ],
        },
      }),
    );
    const input = await readCompareInput(dir);
    expect(input.kind).toBe('results-json');
    expect(input.samples.map((s) => [s.test, s.concurrency, s.metric, s.value])).toEqual([
      ['disagg_perf_y', 4, 'median_ttft_ms', 20],
      ['disagg_perf_y', 4, 'output_throughput', 500],
    ]);
    await writeFile(file, '{"testId":"z","accuracy":{}}');
    await expect(readCompareInput(file)).rejects.toThrow(
      /results.json: no perf.blocks: not the results.json of a perf or stress test/,
    );
  });

  it('an empty dir or a missing path says what it looked for', async () => {
    await expect(readCompareInput(dir)).rejects.toThrow(
      `${dir}: none of history.jsonl, perf_script_test_results.csv, results.json in this dir`,
    );
    await expect(readCompareInput(path.join(dir, 'nope.csv'))).rejects.toThrow(
      'nope.csv: no such file or directory',
    );
  });

  it('names of different kinds meet on one key', () => {
    expect(canonicalTestName('test_stress[disagg_stress_x]')).toBe('disagg_stress_x');
    expect(canonicalTestName('test_benchmark[a[b]]')).toBe('a[b]');
    expect(canonicalTestName('disagg_stress_x')).toBe('disagg_stress_x');
    expect(canonicalMetricName('SERVER_MEDIAN_TTFT')).toBe('median_ttft_ms');
    expect(canonicalMetricName('DISAGG_SERVER_E2EL')).toBe('median_e2el_ms');
    expect(canonicalMetricName('SERVER_P99_ITL')).toBe('p99_itl_ms');
    expect(canonicalMetricName('output_throughput')).toBe('output_throughput');
    expect(sampleKey({ test: 'test_stress[x]', concurrency: 4, metric: 'SERVER_MEDIAN_TTFT' })).toBe(
      sampleKey({ test: 'x', concurrency: 4, metric: 'median_ttft_ms' }),
    );
    expect(sampleKey({ test: 'x', concurrency: 4, metric: 'median_ttft_ms' })).not.toBe(
      sampleKey({ test: 'x', concurrency: 8, metric: 'median_ttft_ms' }),
    );
  });
});
