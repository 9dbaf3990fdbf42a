// Reads one side of a comparison into metric samples: a perf CSV (ours or the original's), an output
// dir (its history.jsonl, else its perf CSV) or a test's results JSON. Names are kept as written; a
// canonical key lets different kinds meet (`SERVER_MEDIAN_TTFT` ↔ `median_ttft_ms`,
// `test_stress[x]` ↔ `x`).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { PERF_CSV_NAME } from './csv.js';
import { HISTORY_FILE_NAME, parseHistory } from './history.js';
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
}

/** The CSV columns a comparison needs. */
const NEEDED_COLUMNS = ['test_name', 'perf_metric', 'end_timestamp', 'state', 'metric_type'] as const;

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

/** `YYYY-MM-DD HH:MM:SS` (local time, as perf-rows writes it) → epoch ms; null when unreadable. */
export function parseCsvTimestamp(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(t) ? null : t;
}

/** Rows of a perf CSV with state `valid`; the test is the name before `_con:`, N of `_con:N` the concurrency. */
export function samplesFromCsv(text: string, file: string): MetricSample[] {
  const parsed = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: true,
  });
  const fields = parsed.meta.fields ?? [];
  const absent = NEEDED_COLUMNS.filter((c) => !fields.includes(c));
  if (absent.length > 0) {
    throw new ParseError(
      `${file}: not a perf CSV: column${absent.length > 1 ? 's' : ''} ${absent.join(', ')} missing ` +
        `(found: ${fields.join(', ') || 'no header'}); give a ${PERF_CSV_NAME}, an output dir or a ${RESULTS_JSON_NAME}`,
    );
  }
  const samples: MetricSample[] = [];
  parsed.data.forEach((row, i) => {
    if ((row.state ?? '').trim() !== 'valid') return;
    const line = i + 2; // header is line 1
    const name = row.test_name ?? '';
    const con = /^(.*)_con:(\d+)$/.exec(name);
    if (!con) throw new ParseError(`${file}:${line}: test_name "${name}" does not end in _con:<concurrency>`);
    const value = Number(row.perf_metric);
    if ((row.perf_metric ?? '').trim() === '' || !Number.isFinite(value))
      throw new ParseError(`${file}:${line}: perf_metric "${row.perf_metric ?? ''}" is not a number`);
    const metric = (row.metric_type ?? '').trim();
    if (metric === '') throw new ParseError(`${file}:${line}: metric_type is empty`);
    samples.push({
      test: con[1],
      concurrency: Number(con[2]),
      metric,
      value,
      endTime: parseCsvTimestamp(row.end_timestamp ?? ''),
      passed: true,
    });
  });
  return samples;
}

/** One sample per metric per concurrency per history record. */
export function samplesFromHistory(text: string, file: string): MetricSample[] {
  return parseHistory(text, file).flatMap((r) =>
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

async function readFileInput(file: string): Promise<CompareInput> {
  const text = await readFile(file, 'utf8');
  if (path.basename(file) === HISTORY_FILE_NAME || file.endsWith('.jsonl')) {
    return { kind: 'history', file, samples: samplesFromHistory(text, file) };
  }
  if (file.endsWith('.json')) {
    const mtime = (await stat(file)).mtimeMs;
    return { kind: 'results-json', file, samples: samplesFromResultsJson(text, file, mtime) };
  }
  return { kind: 'csv', file, samples: samplesFromCsv(text, file) };
}

/**
 * One side of a comparison. A dir is read as an output dir (history.jsonl, else the perf CSV) or a
 * test's log dir (its results JSON), in that order.
 */
export async function readCompareInput(target: string): Promise<CompareInput> {
  const info = await statOrNull(target);
  if (info === null) throw new ParseError(`${target}: no such file or directory`);
  if (!info.isDirectory()) return readFileInput(target);
  const candidates = [HISTORY_FILE_NAME, PERF_CSV_NAME, RESULTS_JSON_NAME];
  for (const name of candidates) {
    const file = path.join(target, name);
    if ((await statOrNull(file))?.isFile()) return readFileInput(file);
  }
  throw new ParseError(
    `${target}: none of ${candidates.join(', ')} in this dir; give an output dir, a CSV or a ${RESULTS_JSON_NAME}`,
  );
}
