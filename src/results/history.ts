// The run history of an output dir: `$OUTPUT_PATH/history.jsonl`, one JSON object per line, one line
// per test run. The history gate, `disagg compare <output dir>`, `disagg accept` and the HTML report
// read it; this module is the one place that spells its name and record shape, and the only writer.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { DisaggConfig } from '../types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ResultsError } from '../errors.js';
import { HistoryIndex, type IndexedLine, type LineFields } from './history-index.js';

export const HISTORY_FILE_NAME = 'history.jsonl';

/** One gate verdict of a run, in words. `passed` null: no verdict (too few baseline runs). */
export interface HistoryVerdict {
  kind: string;
  metric: string;
  concurrency: number | null;
  /** The measured value and what it was judged against (limit, reference or baseline median). */
  value?: number | null;
  bound?: number;
  passed: boolean | null;
  message: string;
}

/** One test run. Only `test`, `endTime`, `passed` and `metrics` are required (older lines have no more). */
export interface HistoryRecord {
  /** Test id, e.g. `disagg_perf_deepseek-r1-fp4_1k1k_…` (the results JSON's `testId`). */
  test: string;
  /** When the run ended, ISO 8601 (`2026-11-29T04:17:51.000Z`). Baselines are ordered by it. */
  endTime: string;
  /** Whether the test passed; only passed runs form a baseline. */
  passed: boolean;
  /** Concurrency (as a string key) → metric (a `disagg parse bench --json` key) → value. */
  metrics: Record<string, Record<string, number>>;
  jobId?: string;
  /** The session's run id (the run dir's name under slurm_logs/runs). */
  runId?: string;
  /** Where the job ran: `<executor>:<host>`; with jobId and submittedAt the key of one job. */
  host?: string;
  submittedAt?: string;
  startTime?: string;
  gpuType?: string;
  /** measurementHash() of the resolved config: baselines only compare runs of equal hash. */
  configHash?: string;
  /** The served software's version, when the job reported it. */
  softwareVersion?: string;
  /** `<dataset>/<metric>` → observed accuracy value. */
  accuracy?: Record<string, number>;
  verdicts?: HistoryVerdict[];
  /** Set by `disagg accept`: baselines start at the latest accepted run (a new accepted level). */
  accepted?: boolean;
  /** Which steps judged this job so far (`perf`, `accuracy`): each adds its part once. */
  parts?: HistoryPart[];
}

export type HistoryPart = 'perf' | 'accuracy';

export function historyPath(outputPath: string): string {
  return path.join(outputPath, HISTORY_FILE_NAME);
}

/** The sections of a config that define the measurement; the simulator's knobs (faults, slowdown) are not. */
export const MEASUREMENT_SECTIONS = [
  'worker_config',
  'hardware',
  'benchmark',
  'environment',
  'slurm',
] as const;

/** Key order must not change the hash: objects are serialised with sorted keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 (16 hex digits) of what defines the measurement: see MEASUREMENT_SECTIONS. */
export function measurementHash(config: DisaggConfig): string {
  const picked: Record<string, unknown> = {};
  for (const s of MEASUREMENT_SECTIONS) picked[s] = config[s];
  return createHash('sha256').update(canonical(picked)).digest('hex').slice(0, 16);
}

/** One job's identity: local job ids wrap, so host and submit time belong to it. */
export function jobKey(r: Pick<HistoryRecord, 'host' | 'jobId' | 'submittedAt'>): string | undefined {
  return r.jobId === undefined ? undefined : `${r.host ?? ''}|${r.jobId}|${r.submittedAt ?? ''}`;
}

/** One line of history.jsonl, newline included. */
export function formatHistoryRecord(record: HistoryRecord): string {
  return `${JSON.stringify(record)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function problem(file: string, line: number, what: string): Error {
  return new Error(
    `${file}:${line}: ${what}; each line must be {"test": string, "endTime": ISO time, "passed": boolean, ` +
      `"metrics": {"<concurrency>": {"<metric>": number}}}`,
  );
}

const OPTIONAL_STRINGS = [
  'jobId',
  'runId',
  'host',
  'submittedAt',
  'startTime',
  'gpuType',
  'configHash',
  'softwareVersion',
] as const;

function numbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObject(value))
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

function verdicts(value: unknown): HistoryVerdict[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).flatMap((v) =>
    typeof v.metric === 'string' && typeof v.message === 'string'
      ? [
          {
            kind: typeof v.kind === 'string' ? v.kind : 'gate',
            metric: v.metric,
            concurrency: typeof v.concurrency === 'number' ? v.concurrency : null,
            ...(typeof v.value === 'number' || v.value === null ? { value: v.value } : {}),
            ...(typeof v.bound === 'number' ? { bound: v.bound } : {}),
            passed: typeof v.passed === 'boolean' ? v.passed : null,
            message: v.message,
          },
        ]
      : [],
  );
}

/** One parsed line; throws a message without the file position (the caller adds it). */
function recordOf(value: unknown, file: string, line: number): HistoryRecord {
  if (!isObject(value)) throw problem(file, line, 'not an object');
  const { test, endTime, passed, metrics } = value;
  if (typeof test !== 'string' || test === '') throw problem(file, line, '"test" is missing');
  if (typeof endTime !== 'string' || Number.isNaN(Date.parse(endTime)))
    throw problem(file, line, `"endTime" ${JSON.stringify(endTime)} is not a time`);
  if (typeof passed !== 'boolean') throw problem(file, line, '"passed" is not true or false');
  if (!isObject(metrics)) throw problem(file, line, '"metrics" is not an object');
  const out: Record<string, Record<string, number>> = {};
  for (const [concurrency, values] of Object.entries(metrics)) {
    if (!/^\d+$/.test(concurrency)) throw problem(file, line, `concurrency "${concurrency}" is not a number`);
    if (!isObject(values)) throw problem(file, line, `"metrics.${concurrency}" is not an object`);
    out[concurrency] = {};
    for (const [metric, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw problem(file, line, `"metrics.${concurrency}.${metric}" is not a number`);
      out[concurrency][metric] = v;
    }
  }
  const record: HistoryRecord = { test, endTime, passed, metrics: out };
  for (const k of OPTIONAL_STRINGS) {
    const v = value[k];
    if (typeof v === 'string') record[k] = v;
  }
  if (isObject(value.accuracy)) record.accuracy = numbers(value.accuracy);
  if (Array.isArray(value.verdicts)) record.verdicts = verdicts(value.verdicts);
  if (value.accepted === true) record.accepted = true;
  if (Array.isArray(value.parts))
    record.parts = value.parts.filter((p): p is HistoryPart => p === 'perf' || p === 'accuracy');
  return record;
}

/** Parse history.jsonl text; a bad line is an error naming the file and line. Blank lines are skipped. */
export function parseHistory(text: string, file: string): HistoryRecord[] {
  return parseHistoryLenient(text, file, true).records;
}

/**
 * Parse history.jsonl text. `strict`: a bad line throws (naming file and line); else it is counted in
 * `skipped` (a report must open even on a half-written file).
 */
export function parseHistoryLenient(
  text: string,
  file: string,
  strict = false,
): { records: HistoryRecord[]; skipped: number } {
  const records: HistoryRecord[] = [];
  let skipped = 0;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    try {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw problem(file, line, `not JSON (${(err as Error).message})`);
      }
      records.push(recordOf(value, file, line));
    } catch (err) {
      if (strict) throw err;
      skipped++;
    }
  });
  return { records, skipped };
}

/** The records of `$OUTPUT_PATH/history.jsonl`; none when the file does not exist. Bad lines throw. */
export async function readHistoryRecords(outputPath: string): Promise<HistoryRecord[]> {
  const file = historyPath(outputPath);
  try {
    return parseHistory(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** What the index selects a line by (`history-index.ts`); undefined for a line that is not a record. */
export function historyFieldsOf(raw: string): LineFields | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || typeof (v as HistoryRecord).test !== 'string') return undefined;
  const r = v as Partial<HistoryRecord>;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return {
    test: r.test as string,
    configHash: str(r.configHash),
    gpuType: str(r.gpuType),
    key:
      typeof r.jobId === 'string'
        ? jobKey({ host: str(r.host), jobId: r.jobId, submittedAt: str(r.submittedAt) })
        : undefined,
  };
}

/** The index of `$OUTPUT_PATH/history.jsonl`, up to date with it. */
export function openHistoryIndex(outputPath: string): Promise<HistoryIndex> {
  return HistoryIndex.open(historyPath(outputPath), historyFieldsOf);
}

/** These indexed lines as records (a bad one throws, naming the file and its byte offset). */
async function recordsAt(index: HistoryIndex, lines: readonly IndexedLine[]): Promise<HistoryRecord[]> {
  const texts = await index.read(lines);
  return texts.flatMap((raw, i) => parseHistory(raw, `${index.file} (byte ${lines[i]?.offset})`));
}

/**
 * The records of one test (of this config hash and GPU type, when given), read by the index: the
 * history gate reads its own test's lines, not the whole history.
 */
export async function readHistoryRecordsOf(
  outputPath: string,
  of: Pick<HistoryRecord, 'test' | 'configHash' | 'gpuType'>,
): Promise<HistoryRecord[]> {
  const index = await openHistoryIndex(outputPath);
  const lines = index.find({ test: of.test, configHash: of.configHash, gpuType: of.gpuType });
  return recordsAt(index, lines);
}

/** The first line of the job of `key`, by the index (checked against the line itself). */
async function lineOfJob(
  index: HistoryIndex,
  key: string,
): Promise<{ line: IndexedLine; record: HistoryRecord } | undefined> {
  const hits = index.find({ key });
  const texts = await index.read(hits);
  for (let i = 0; i < hits.length; i++) {
    const record = parseHistoryLenient(texts[i] as string, index.file).records[0];
    if (record && jobKey(record) === key) return { line: hits[i] as IndexedLine, record };
  }
  return undefined;
}

/** Replace one line (by its indexed place) and keep the index fresh. */
async function replaceLine(index: HistoryIndex, line: IndexedLine, text: string): Promise<void> {
  const old = await readFile(index.file);
  const next = Buffer.concat([
    old.subarray(0, line.offset),
    Buffer.from(text, 'utf8'),
    old.subarray(line.offset + line.length),
  ]);
  await writeFileAtomic(index.file, next);
  await index.replaced(line.offset, Buffer.byteLength(text, 'utf8'), historyFieldsOf(text));
}

/** Whether the file is non-empty and its last byte is not a newline (an append needs one first). */
async function endsMidLine(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = (await fh.stat()).size;
    if (!size) return false;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] !== 10;
  } finally {
    await fh.close();
  }
}

/**
 * The baseline candidates of a run: earlier records of the same test, config hash and GPU type, from
 * the latest `accepted` one on (`disagg accept` starts a new level, that run counting as passed).
 * Passed/failed is left to the rule.
 */
export function baselineCandidates(
  records: readonly HistoryRecord[],
  of: Pick<HistoryRecord, 'test' | 'configHash' | 'gpuType'>,
): HistoryRecord[] {
  const same = records
    .filter((r) => r.test === of.test && r.configHash === of.configHash && r.gpuType === of.gpuType)
    .sort((a, b) => Date.parse(a.endTime) - Date.parse(b.endTime));
  let start = 0;
  same.forEach((r, i) => {
    if (r.accepted) start = i;
  });
  // An accepted run is the new level even if it failed its gate: it counts as a baseline run.
  return same.slice(start).map((r) => (r.accepted && !r.passed ? { ...r, passed: true } : r));
}

async function withLock<T>(outputPath: string, work: (file: string) => Promise<T>): Promise<T> {
  const file = historyPath(outputPath);
  await mkdir(outputPath, { recursive: true });
  let compromised: Error | undefined;
  // Same discipline as the perf CSV (src/results/csv.ts): many workers and sessions write this file.
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 30_000,
    retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 200, randomize: true },
    onCompromised: (err) => {
      compromised = err;
    },
  });
  try {
    return await work(file);
  } finally {
    await release().catch(() => undefined);
    if (compromised !== undefined)
      // eslint-disable-next-line no-unsafe-finally -- a lost lock must not pass silently
      throw new ResultsError(`lock on ${file} was lost while writing (${compromised.message}); check it`);
  }
}

/** The parts already recorded for the job of `key` (DEBUG_MODE re-judging must not record it twice). */
export async function recordedParts(
  outputPath: string,
  key: Pick<HistoryRecord, 'host' | 'jobId' | 'submittedAt'>,
): Promise<HistoryPart[]> {
  const k = jobKey(key);
  if (k === undefined) return [];
  const found = await lineOfJob(await openHistoryIndex(outputPath), k);
  return found ? (found.record.parts ?? ['perf']) : [];
}

/** Append one record under the file lock, unless its job is already there. Returns whether it was written. */
export async function appendHistoryRecord(outputPath: string, record: HistoryRecord): Promise<boolean> {
  return (await recordJobPart(outputPath, record, 'perf')) !== 'already';
}

/**
 * Record one step's part of a job's run, under the file lock: a new line for a job not yet there, else
 * the part merged into the job's line (a run passes only if every part passed). A part already
 * recorded for the job is left as it is: appends are idempotent per job (host, job id, submit time).
 */
export async function recordJobPart(
  outputPath: string,
  record: HistoryRecord,
  part: HistoryPart,
): Promise<'appended' | 'merged' | 'already'> {
  return withLock(outputPath, async (file) => {
    const key = jobKey(record);
    const index = await HistoryIndex.open(file, historyFieldsOf);
    const found = key === undefined ? undefined : await lineOfJob(index, key);
    if (!found) {
      const sep = (await endsMidLine(file)) ? '\n' : '';
      await appendFile(file, sep + formatHistoryRecord({ ...record, parts: [part] }), 'utf8');
      return 'appended';
    }
    const old = found.record;
    const parts = old.parts ?? ['perf'];
    if (parts.includes(part)) return 'already';
    const merged: HistoryRecord = {
      ...old,
      passed: old.passed && record.passed,
      metrics: { ...old.metrics, ...record.metrics },
      ...(record.accuracy || old.accuracy ? { accuracy: { ...old.accuracy, ...record.accuracy } } : {}),
      verdicts: [...(old.verdicts ?? []), ...(record.verdicts ?? [])],
      parts: [...parts, part],
    };
    await replaceLine(index, found.line, JSON.stringify(merged));
    return 'merged';
  });
}

/**
 * `disagg accept`: mark the latest record of `test` as the start of its baseline. Returns it, or
 * undefined when the test has no record. The file is rewritten under the lock.
 */
export async function acceptLatest(outputPath: string, test: string): Promise<HistoryRecord | undefined> {
  return withLock(outputPath, async (file) => {
    const index = await HistoryIndex.open(file, historyFieldsOf);
    const lines = index.find({ test });
    const texts = await index.read(lines);
    let latest: { line: IndexedLine; raw: string; record: HistoryRecord } | undefined;
    texts.forEach((raw, i) => {
      const r = parseHistoryLenient(raw, file).records[0];
      if (r && r.test === test && (!latest || Date.parse(r.endTime) >= Date.parse(latest.record.endTime)))
        latest = { line: lines[i] as IndexedLine, raw, record: r };
    });
    if (!latest) return undefined;
    // The record is kept as written (unknown fields too); only the marker is added.
    const raw = JSON.parse(latest.raw) as Record<string, unknown>;
    await replaceLine(index, latest.line, JSON.stringify({ ...raw, accepted: true }));
    return { ...latest.record, accepted: true };
  });
}
