// Reads one side of a comparison into metric samples: a perf CSV (ours or the original's), an output
// dir (its history.jsonl, else its perf CSV) or a test's results JSON. Names are kept as written; a
// canonical key lets different kinds meet (`SERVER_MEDIAN_TTFT` ↔ `median_ttft_ms`,
// `test_stress[x]` ↔ `x`).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PERF_CSV_NAME, readPerfCsvText, warnCsvNotice } from './csv.js';
import { HistoryIndex, type IndexedLine } from './history-index.js';
import {
  HISTORY_FILE_NAME,
  historyFieldsOf,
  historyNotice,
  parseHistoryLenient,
  type HistoryRecord,
} from './history.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import { benchKeyForMetricName } from '../parsers/metric-names.js';
import { RESULTS_JSON_NAME } from './results-json.js';
import { ParseError } from '../errors.js';

export type CompareInputKind = 'csv' | 'history' | 'results-json';

/** One value of one metric at one concurrency of one test run. */
export interface MetricSample {
  test: string;
  concurrency: number;
  metric: string;
  value: number;
  /** Epoch ms of the run's end; null when the source does not say. */
  endTime: number | null;
  /** Whether the run counts as a baseline (CSV: state valid; history: the test passed). */
  passed: boolean;
}

export interface CompareInput {
  kind: CompareInputKind;
  /** The file actually read. */
  file: string;
  samples: MetricSample[];
  /** What was left out of the file (damaged history lines or CSV rows), one notice each; none when all was read. */
  notices: string[];
}

/** `test_stress[x]` → `x`; other names unchanged. */
export function canonicalTestName(name: string): string {
  const m = /^test_[a-z_]+\[(.*)\]$/.exec(name);
  return m ? m[1] : name;
}

/** The original's CSV names → our bench keys (`SERVER_P99_ITL` → `p99_itl_ms`); other names unchanged. */
export function canonicalMetricName(name: string): string {
  return benchKeyForMetricName(name) ?? name;
}

/** Samples with the same key are runs of the same quantity, whatever kind of input they came from. */
export function sampleKey(s: Pick<MetricSample, 'test' | 'concurrency' | 'metric'>): string {
  return JSON.stringify([canonicalTestName(s.test), s.concurrency, canonicalMetricName(s.metric)]);
}

/**
 * Rows of a perf CSV with state `valid`; the test is the name before `_con:`, N of `_con:N` the
 * concurrency. Rows that cannot be read (torn, garbage) are left out, said once through `onNotice`.
 */
export function samplesFromCsv(
  text: string,
  file: string,
  onNotice: (message: string) => void = warnCsvNotice,
): MetricSample[] {
  return readPerfCsvText(text, file, onNotice).flatMap((r) =>
    r.state === 'valid' && r.value !== null
      ? [
          {
            test: r.test,
            concurrency: r.concurrency,
            metric: r.metric,
            value: r.value,
            endTime: r.endTime,
            passed: true,
          },
        ]
      : [],
  );
}

/** One sample per metric per concurrency per history record. */
export function samplesFromHistory(text: string, file: string): MetricSample[] {
  return samplesFromRecords(parseHistoryLenient(text, file).records);
}

function samplesFromRecords(records: readonly HistoryRecord[]): MetricSample[] {
  return records.flatMap((r) =>
    Object.entries(r.metrics).flatMap(([con, values]) =>
      Object.entries(values).map(([metric, value]) => ({
        test: r.test,
        concurrency: Number(con),
        metric,
        value,
        endTime: Date.parse(r.endTime),
        passed: r.passed,
      })),
    ),
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The measured blocks of a test's results JSON (`perf.blocks`, warm-up and incomplete blocks left out). It
 * records no end time or pass/fail: the caller gives the file's time, and the run counts as passed.
 */
export function samplesFromResultsJson(text: string, file: string, endTime: number | null): MetricSample[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(data) || !isObject(data.perf) || !Array.isArray(data.perf.blocks)) {
    throw new ParseError(`${file}: no perf.blocks: not the ${RESULTS_JSON_NAME} of a perf or stress test`);
  }
  const test = typeof data.testId === 'string' ? data.testId : path.basename(path.dirname(file));
  const samples: MetricSample[] = [];
  for (const block of data.perf.blocks as unknown[]) {
    if (!isObject(block) || block.warmup === true || block.completed !== true) continue;
    if (typeof block.concurrency !== 'number' || !isObject(block.metrics)) continue;
    for (const [metric, value] of Object.entries(block.metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      samples.push({ test, concurrency: block.concurrency, metric, value, endTime, passed: true });
    }
  }
  return samples;
}

async function statOrNull(p: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Each test's last `recent` passed runs (and any later failed ones), read by the history's index: a
 * comparison of the latest runs does not parse a year of history. A test with fewer passed runs among
 * its last lines is read whole, so the result is the same as from the whole file.
 */
async function recentHistorySamples(
  file: string,
  recent: number,
): Promise<{ samples: MetricSample[]; notices: string[] }> {
  const index = await HistoryIndex.open(file, historyFieldsOf);
  const byTest = new Map<string, IndexedLine[]>();
  for (const line of index.find({})) {
    const list = byTest.get(line.test);
    if (list) list.push(line);
    else byTest.set(line.test, [line]);
  }
  const records: HistoryRecord[] = [];
  const parse = async (lines: IndexedLine[]) =>
    parseHistoryLenient((await index.read(lines)).join('\n'), file).records;
  for (const lines of byTest.values()) {
    // Lines are appended as runs end: the last ones are the latest (4× margin for runs judged late).
    let mine = await parse(lines.slice(-recent * 4));
    if (lines.length > recent * 4 && mine.filter((r) => r.passed).length < recent) mine = await parse(lines);
    records.push(...mine);
  }
  const notice = historyNotice({ file, skipped: index.skipped() });
  return { samples: samplesFromRecords(records), notices: notice ? [notice] : [] };
}

async function readFileInput(file: string, recent?: number): Promise<CompareInput> {
  if (path.basename(file) === HISTORY_FILE_NAME && recent !== undefined && recent > 0)
    return { kind: 'history', file, ...(await recentHistorySamples(file, recent)) };
  const text = (await readRegularFile(file, { maxBytes: MAX_DATA_FILE_BYTES })).toString('utf8');
  if (path.basename(file) === HISTORY_FILE_NAME || file.endsWith('.jsonl')) {
    const { records, skipped } = parseHistoryLenient(text);
    const notice = historyNotice({ file, skipped });
    return { kind: 'history', file, samples: samplesFromRecords(records), notices: notice ? [notice] : [] };
  }
  if (file.endsWith('.json')) {
    const mtime = (await stat(file)).mtimeMs;
    return { kind: 'results-json', file, samples: samplesFromResultsJson(text, file, mtime), notices: [] };
  }
  const notices: string[] = [];
  return { kind: 'csv', file, samples: samplesFromCsv(text, file, (n) => notices.push(n)), notices };
}

/**
 * One side of a comparison. A dir is read as an output dir (history.jsonl, else the perf CSV) or a
 * test's log dir (its results JSON), in that order.
 */
export async function readCompareInput(
  target: string,
  opts: {
    /** Of a history: only each test's last this many passed runs are needed (0/undefined: all). */
    recentRuns?: number;
  } = {},
): Promise<CompareInput> {
  const info = await statOrNull(target);
  if (info === null) throw new ParseError(`${target}: no such file or directory`);
  if (!info.isDirectory()) return readFileInput(target, opts.recentRuns);
  const candidates = [HISTORY_FILE_NAME, PERF_CSV_NAME, RESULTS_JSON_NAME];
  for (const name of candidates) {
    const file = path.join(target, name);
    if ((await statOrNull(file))?.isFile()) return readFileInput(file, opts.recentRuns);
  }
  throw new ParseError(
    `${target}: none of ${candidates.join(', ')} in this dir; give an output dir, a CSV or a ${RESULTS_JSON_NAME}`,
  );
}
