// The run history of an output dir: `$OUTPUT_PATH/history.jsonl`, one JSON object per line, one line
// per test run. The history gate, `disagg compare <output dir>`, `disagg accept` and the HTML report
// read it; this module is the one place that spells its name and record shape, and the only writer.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DisaggConfig } from '../types.js';
import { appendNoFollow, namedFileError, openForAppend, refuseSymlink } from '../util/append-no-follow.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lockFile } from '../util/file-lock.js';
import { afterLastNewline } from '../util/last-line.js';
import { finishTailRewrite, rewriteTail } from '../util/tail-rewrite.js';
import { parseJsonLines, skippedNotice, type SkippedLine } from '../util/json-lines.js';
import { MAX_DATA_FILE_BYTES, readRegularTextIfExists } from '../util/read-regular-file.js';
import { ResultsError } from '../errors.js';
import { HistoryIndex, type IndexedLine, type LineFields } from './history-index.js';
import { tailRewriteRedoPath, tornFragmentPath } from '../jobdir/files.js';

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

const SHAPE =
  'each line must be {"test": string, "endTime": ISO time, "passed": boolean, ' +
  '"metrics": {"<concurrency>": {"<metric>": number}}}';

function problem(file: string, line: number, what: string): Error {
  return new Error(`${file}:${line}: ${what}; ${SHAPE}`);
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

/** One parsed line; throws what is wrong with it, without the file position (the caller adds it). */
function recordOf(value: unknown): HistoryRecord {
  if (!isObject(value)) throw new Error('not an object');
  const { test, endTime, passed, metrics } = value;
  if (typeof test !== 'string' || test === '') throw new Error('"test" is missing');
  if (typeof endTime !== 'string' || Number.isNaN(Date.parse(endTime)))
    throw new Error(`"endTime" ${JSON.stringify(endTime)} is not a time`);
  if (typeof passed !== 'boolean') throw new Error('"passed" is not true or false');
  if (!isObject(metrics)) throw new Error('"metrics" is not an object');
  const out: Record<string, Record<string, number>> = {};
  for (const [concurrency, values] of Object.entries(metrics)) {
    if (!/^\d+$/.test(concurrency)) throw new Error(`concurrency "${concurrency}" is not a number`);
    if (!isObject(values)) throw new Error(`"metrics.${concurrency}" is not an object`);
    out[concurrency] = {};
    for (const [metric, v] of Object.entries(values)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new Error(`"metrics.${concurrency}.${metric}" is not a number`);
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
  const { records, skipped } = parseHistoryLenient(text, file);
  const bad = skipped[0];
  if (bad) throw problem(file, bad.line, bad.reason);
  return records;
}

/**
 * Parse history.jsonl text with the tolerant line reader (src/util/json-lines.ts): a torn or garbage
 * line is left out and listed in `skipped` (`historyNotice` words them), never fatal.
 */
export function parseHistoryLenient(
  text: string,
  _file?: string,
): { records: HistoryRecord[]; skipped: SkippedLine[] } {
  const { lines, skipped } = parseJsonLines(text, recordOf);
  return { records: lines.map((l) => l.value), skipped };
}

/** A history file's records and the damaged lines that were left out. */
export interface HistoryRead {
  file: string;
  records: HistoryRecord[];
  skipped: SkippedLine[];
}

/** One notice naming the file and each skipped line, or undefined when every line was read. */
export function historyNotice(read: Pick<HistoryRead, 'file' | 'skipped'>): string | undefined {
  return skippedNotice(read.file, read.skipped);
}

/** Bound on one history file (it grows a line per test run; archive it long before this). */
const HISTORY_BOUND = {
  maxBytes: MAX_DATA_FILE_BYTES,
  tooLargeHint: 'move it aside (the next run starts a new history) or keep only recent lines',
};

/** A history file (any path); none when it does not exist. Damaged lines are skipped, never fatal. */
export async function readHistoryFile(file: string): Promise<HistoryRead> {
  const text = (await readRegularTextIfExists(file, HISTORY_BOUND)) ?? '';
  return { file, ...parseHistoryLenient(text, file) };
}

/**
 * The records of `$OUTPUT_PATH/history.jsonl`; none when the file does not exist. A damaged line is
 * skipped; `onNotice` (default: a console warning) hears one notice naming the file and the lines.
 */
export async function readHistoryRecords(
  outputPath: string,
  onNotice: (message: string) => void = (m) => console.warn(`[vitest-disagg] ${m}`),
): Promise<HistoryRecord[]> {
  const read = await readHistoryFile(historyPath(outputPath));
  const notice = historyNotice(read);
  if (notice) onNotice(notice);
  return read.records;
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
async function recordsAt(
  index: HistoryIndex,
  lines: readonly IndexedLine[],
  onNotice: (message: string) => void,
): Promise<HistoryRecord[]> {
  const texts = await index.read(lines);
  const records: HistoryRecord[] = [];
  const bad: string[] = [];
  texts.forEach((raw, i) => {
    const read = parseHistoryLenient(raw, index.file);
    for (const s of read.skipped) bad.push(`byte ${lines[i]?.offset}: ${s.reason}`);
    records.push(...read.records);
  });
  // Damaged lines are skipped with one notice, never fatal (as every history reader does).
  if (bad.length)
    onNotice(
      `${index.file}: skipped ${bad.length} damaged line(s) (${bad.slice(0, 3).join('; ')}` +
        `${bad.length > 3 ? `; and ${bad.length - 3} more` : ''}), read the rest`,
    );
  return records;
}

/**
 * The records of one test (of this config hash and GPU type, when given), read by the index: the
 * history gate reads its own test's lines, not the whole history.
 */
export async function readHistoryRecordsOf(
  outputPath: string,
  of: Pick<HistoryRecord, 'test' | 'configHash' | 'gpuType'>,
  onNotice: (message: string) => void = (m) => console.warn(`[vitest-disagg] ${m}`),
): Promise<HistoryRecord[]> {
  const index = await openHistoryIndex(outputPath);
  const lines = index.find({ test: of.test, configHash: of.configHash, gpuType: of.gpuType });
  // The file's damaged lines the index knows of (not records, a torn tail), as a full read names them.
  const notice = historyNotice({ file: index.file, skipped: index.skipped() });
  if (notice) onNotice(notice);
  return recordsAt(index, lines, onNotice);
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

/** Where a line rewrite of the history keeps its redo file and moves what it cannot place. */
const rewriteFiles = (file: string) => ({
  redo: tailRewriteRedoPath(file),
  aside: () => tornFragmentPath(file),
});

/**
 * Replace one line (by its indexed place) and keep the index fresh. A line near the end (a step merging
 * its part into this run's line) costs a rewrite of the tail only, not of a year of history.
 */
async function replaceLine(index: HistoryIndex, line: IndexedLine, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  if (!(await rewriteTail(index.file, line.offset, line.length, bytes, rewriteFiles(index.file)))) {
    const old = await readFile(index.file);
    await writeFileAtomic(
      index.file,
      Buffer.concat([old.subarray(0, line.offset), bytes, old.subarray(line.offset + line.length)]),
    );
  }
  await index.replaced(line.offset, bytes.length, historyFieldsOf(text));
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

/** Says what the writer repaired or what a reader skipped (default: a console warning). */
export type HistoryNotice = (message: string) => void;

const warn: HistoryNotice = (m) => console.warn(`[vitest-disagg] ${m}`);

async function withLock<T>(
  outputPath: string,
  onNotice: HistoryNotice,
  work: (file: string) => Promise<T>,
): Promise<T> {
  const file = historyPath(outputPath);
  await mkdir(outputPath, { recursive: true });
  let compromised: Error | undefined;
  // Same discipline as the perf CSV (src/results/csv.ts): many workers and sessions write this file.
  const release = await lockFile(file, {
    stale: 30_000,
    retries: 400,
    minTimeout: 5,
    maxTimeout: 200,
    onCompromised: (err) => {
      compromised = err;
    },
  });
  try {
    // Checked under the lock: the file is read, appended to or replaced only when it is no symlink.
    await refuseSymlink(file);
    // A line rewrite a crash cut short is finished before anything else reads or writes the file.
    const finished = await finishTailRewrite(file, rewriteFiles(file));
    if (finished) onNotice(`${file}: ${finished}`);
    return await work(file);
  } finally {
    await release().catch(() => undefined);
    if (compromised !== undefined)
      // eslint-disable-next-line no-unsafe-finally -- a lost lock must not pass silently
      throw new ResultsError(`lock on ${file} was lost while writing (${compromised.message}); check it`);
  }
}

async function readText(file: string): Promise<string> {
  return (await readRegularTextIfExists(file, HISTORY_BOUND)) ?? '';
}

/** The bytes after the file's last newline and where they start (only the tail is read). */
async function lastLine(file: string): Promise<{ fragment: string; cut: number } | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const tail = await afterLastNewline(fh, (await fh.stat()).size);
    return tail && { fragment: tail.fragment.toString('utf8'), cut: tail.cut };
  } finally {
    await fh.close();
  }
}

/**
 * Under the lock: a last line without its newline that is not a whole record (a crash or a full disk
 * cut it short) is moved aside (tornFragmentPath) and the file cut back to its last newline, so
 * the next line starts clean and the fragment is kept for a look. Reads only the file's tail.
 */
async function repairTornTail(file: string, onNotice: HistoryNotice): Promise<void> {
  const tail = await lastLine(file);
  if (!tail) return;
  const { fragment, cut } = tail;
  // A whole record that only lacks its newline (written by hand) stays; the append adds the newline.
  if (fragment.trim() === '' || parseHistoryLenient(fragment).skipped.length === 0) return;
  const aside = tornFragmentPath(file);
  await writeFile(aside, fragment, { flag: 'wx' }).catch(async (err: unknown) => {
    // A full disk: no half-written copy is left; the fragment stays in place until the next write.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(aside, { force: true });
    throw namedFileError(aside, err, 'the torn last line was left in place, nothing was written');
  });
  const fh = await openForAppend(file);
  let lineNo = 1;
  try {
    await fh.truncate(cut);
    if (cut > 0) lineNo = (await readText(file)).split('\n').length;
  } finally {
    await fh.close();
  }
  onNotice(
    `${file}: line ${lineNo} was torn (cut short by a crash or a full disk); ` +
      `moved it to ${aside}, the history goes on after the last whole line`,
  );
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
  onNotice: HistoryNotice = warn,
): Promise<'appended' | 'merged' | 'already'> {
  return withLock(outputPath, onNotice, async (file) => {
    await repairTornTail(file, onNotice);
    const key = jobKey(record);
    const index = await HistoryIndex.open(file, historyFieldsOf);
    const found = key === undefined ? undefined : await lineOfJob(index, key);
    if (!found) {
      const sep = (await endsMidLine(file)) ? '\n' : '';
      await appendNoFollow(file, sep + formatHistoryRecord({ ...record, parts: [part] }));
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
export async function acceptLatest(
  outputPath: string,
  test: string,
  onNotice: HistoryNotice = warn,
): Promise<HistoryRecord | undefined> {
  return withLock(outputPath, onNotice, async (file) => {
    await repairTornTail(file, onNotice);
    // A manual command: the whole file is read once, to name the lines it cannot use.
    const notice = historyNotice(await readHistoryFile(file));
    if (notice) onNotice(notice);
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
