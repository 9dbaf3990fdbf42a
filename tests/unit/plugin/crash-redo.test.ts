// Issue 21, kill -9 windows: a run killed between a job's CSV append and its history line (or after the
// broker handed the job over, before any result was written) leaves the job unconsumed; the rerun
// re-attaches it and judges it again. That second judging must complete what is missing and duplicate
// nothing: the CSV rows the killed run wrote stay once, the history gets its one line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { judgePerf } from '../../../fixtures/steps/perf-step.js';
import { BENCH_LOG } from '../../../src/jobdir/files.js';
import { resolveOptions } from '../../../src/plugin/options.js';
import { appendPerfRows, perfCsvPath } from '../../../src/results/csv.js';
import { historyPath } from '../../../src/results/history.js';
import { perfRowsFor } from '../../../src/results/perf-rows.js';
import type { JobOutcome, LoadedConfig } from '../../../src/types.js';
import { fixtureLog } from '../../fixtures/paths.js';

let out: string;
let logDir: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-redo-'));
  logDir = path.join(out, 'slurm_logs', 'runs', '20261206-010000-abcd', 'disagg_perf_x');
  fs.mkdirSync(logDir, { recursive: true });
  fs.copyFileSync(fixtureLog('bench_trtllm_srun.log'), path.join(logDir, BENCH_LOG));
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(out, { recursive: true, force: true });
});

const loaded: LoadedConfig = {
  file: '/cfg/perf/x.yaml',
  relFile: 'perf/x.yaml',
  testType: 'disagg',
  category: 'perf',
  stem: 'x',
  testId: 'disagg_perf_x',
  config: { metadata: { model_name: 'm', precision: 'fp8' } },
  problems: [],
  hash: 'h',
};

function outcome(resumed: boolean, endedAt: string): JobOutcome {
  return {
    testId: loaded.testId,
    jobId: '4242',
    state: 'COMPLETED',
    logDir,
    resumed,
    submittedAt: '2026-12-06T01:00:00.000Z',
    // The end is when the broker collected the job: a rerun collects it later.
    endedAt,
  };
}

const csvRows = (): Array<Record<string, string>> =>
  Papa.parse<Record<string, string>>(fs.readFileSync(perfCsvPath(out), 'utf8'), {
    header: true,
    skipEmptyLines: true,
  }).data;
const historyLines = (): string[] =>
  fs.existsSync(historyPath(out)) ? fs.readFileSync(historyPath(out), 'utf8').trim().split('\n') : [];

describe('a job judged again after a crash', () => {
  it('killed after the CSV append, before the history line: no duplicate rows, one history line', async () => {
    const options = resolveOptions({ outputPath: out }, {}, out);
    // What the killed run did: judge the job, then die after the CSV append (history not written).
    const first = await judgePerf(outcome(false, '2026-12-06T01:10:00.000Z'), loaded, options);
    expect(first.rowsWritten).toBeGreaterThan(0);
    const rowsBefore = csvRows();
    fs.rmSync(historyPath(out));
    fs.rmSync(path.join(logDir, 'results.json'));

    // The rerun re-attaches the job (resumed) and judges it again.
    const again = await judgePerf(outcome(true, '2026-12-06T02:00:00.000Z'), loaded, options);
    expect(again.rowsWritten).toBe(0);
    expect(csvRows()).toEqual(rowsBefore);
    expect(historyLines()).toHaveLength(1);
    expect(JSON.parse(historyLines()[0] as string)).toMatchObject({ test: loaded.testId, jobId: '4242' });
    expect(fs.existsSync(path.join(logDir, 'results.json'))).toBe(true);
  });

  it('killed before anything was written: the rerun writes every row and the history line once', async () => {
    const options = resolveOptions({ outputPath: out }, {}, out);
    // Another job's rows are already in the CSV: they are no reason to leave this job's out.
    const other = perfRowsFor({
      testId: 'disagg_perf_other',
      category: 'perf',
      testType: 'disagg',
      blocks: [{ concurrency: 1, completed: true, warmup: false, metrics: { median_ttft_ms: 9 } }],
      config: {},
      startedAt: new Date('2026-12-06T01:00:00.000Z'),
    });
    expect(other.length).toBeGreaterThan(0);
    await appendPerfRows(perfCsvPath(out), other);
    const again = await judgePerf(outcome(true, '2026-12-06T02:00:00.000Z'), loaded, options);
    expect(again.rowsWritten).toBeGreaterThan(0);
    expect(csvRows()).toHaveLength(other.length + again.rowsWritten);
    expect(historyLines()).toHaveLength(1);
    // Judged a third time (killed again after both writes, before the consumed mark): nothing added.
    const third = await judgePerf(outcome(true, '2026-12-06T03:00:00.000Z'), loaded, options);
    expect(third.rowsWritten).toBe(0);
    expect(csvRows()).toHaveLength(other.length + again.rowsWritten);
    expect(historyLines()).toHaveLength(1);
  });
});
