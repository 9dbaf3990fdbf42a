// The shared perf CSV: appends and the one reader. Many Vitest workers (threads and processes) and
// several sessions write the same file, so every append takes a cross-process lock (proper-lockfile's
// atomic mkdir), decides header-or-not while holding it, and writes the batch in one call. The reader
// serves `disagg report` and `disagg compare` alike, for our CSV and the original framework's.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { PERF_CSV_COLUMNS, type PerfRow } from './perf-rows.js';
import { tornFragmentPath } from '../jobdir/files.js';
import { appendThrough, namedFileError, openForAppend, refuseSymlink } from '../util/append-no-follow.js';
import { neutraliseCsvField, unneutraliseCsvField } from '../util/csv-formula.js';
import { csvRecords } from '../util/csv-records.js';
import { skippedNotice, type SkippedLine } from '../util/json-lines.js';
import { lockFile } from '../util/file-lock.js';
import { afterLastNewline } from '../util/last-line.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import { ParseError, ResultsError } from '../errors.js';

export const PERF_CSV_NAME = 'perf_script_test_results.csv';

export interface AppendResult {
  /** The file the rows went to (the sibling file when the existing header differs). */
  file: string;
  written: number;
  warning?: string;
}

export function perfCsvPath(outputPath: string): string {
  return path.join(outputPath, PERF_CSV_NAME);
}

export function perfCsvHeader(): string {
  return Papa.unparse([[...PERF_CSV_COLUMNS]], { newline: '\n' });
}

function toCsvBody(rows: readonly PerfRow[]): string {
  // A text field a spreadsheet would run as a formula (`=HYPERLINK(…)` as a metric name) gets a `'`.
  const data = rows.map((r) => PERF_CSV_COLUMNS.map((c) => neutraliseCsvField(r[c])));
  return `${Papa.unparse(data, { newline: '\n', header: false })}\n`;
}

/** The most of a file's tail read to find its last line (a perf CSV row is well under 1 KiB). */
const MAX_TAIL_BYTES = 1024 * 1024;

interface Head {
  header: string;
  /** Bytes of the file. */
  size: number;
  endsWithNewline: boolean;
}

/** First line, size and last byte of the open file; null when it is empty. */
async function readHead(fh: FileHandle): Promise<Head | null> {
  const size = (await fh.stat()).size;
  if (size === 0) return null;
  const buf = Buffer.alloc(Math.min(size, 64 * 1024));
  await fh.read(buf, 0, buf.length, 0);
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const nl = text.indexOf('\n');
  const header = (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
  return { header, size, endsWithNewline: last[0] === 10 };
}

/** The bytes after the file's last newline and where they start; only the tail is read. */
async function lastLine(
  fh: FileHandle,
  size: number,
  file: string,
): Promise<{ fragment: Buffer; cut: number }> {
  const tail = await afterLastNewline(fh, size, MAX_TAIL_BYTES);
  if (!tail)
    throw new ResultsError(
      `${file}: its last ${MAX_TAIL_BYTES} bytes hold no line end, so it is no perf CSV this run can ` +
        `append to; nothing was written. Move it aside, then run again`,
    );
  return tail;
}

/** Whether the text of a last line without its newline is one whole row of our CSV (written by hand). */
function isWholeRow(fragment: string): boolean {
  const recs = csvRecords(fragment);
  const rec = recs[0];
  if (recs.length !== 1 || rec === undefined || rec.problem !== undefined) return false;
  try {
    return perfRowOf(PERF_CSV_COLUMNS, rec.fields, 2) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Under the lock, on the descriptor the append writes through: a last line without its newline that is
 * not a whole row (a crash or a full disk cut it short) is moved aside (tornFragmentPath) and the file cut
 * back to its last newline, so the next row starts on a line of its own and no row is glued to the
 * fragment. A file that is only the start of our header is cut to nothing (the header is written anew).
 * Returns the head after the repair.
 */
async function repairTornTail(
  fh: FileHandle,
  file: string,
  header: string,
  head: Head,
  onNotice: CsvNotice,
): Promise<Head | null> {
  const { fragment, cut } = await lastLine(fh, head.size, file);
  // A file of another header is never touched, unless it is only the start of ours (one line, cut short).
  if (head.header !== header && cut !== 0) return head;
  const text = fragment.toString('utf8');
  const bare = text.replace(/^\uFEFF/, '');
  const torn = cut === 0 ? bare !== header && header.startsWith(bare) : !isWholeRow(text);
  if (!torn) return head;
  const aside = tornFragmentPath(file);
  // `wx`: never over an existing file or through a symlink someone put there.
  await writeFile(aside, fragment, { flag: 'wx' }).catch(async (err: unknown) => {
    // A full disk: no half-written copy is left; the file keeps its fragment until the next append.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(aside, { force: true });
    throw namedFileError(
      aside,
      err,
      'the torn last line of the perf CSV was left in place, no rows were written',
    );
  });
  await fh.truncate(cut);
  onNotice(
    `${file}: its last line was torn (${fragment.length} bytes without a line end, cut short by a crash or ` +
      `a full disk); moved it to ${aside}, the rows go on after the last whole line`,
  );
  return cut === 0 ? null : { ...head, size: cut, endsWithNewline: true };
}

/** Sibling for rows whose header does not match: `perf_script_test_results.<sha8>.csv`. */
export function siblingCsvPath(csvPath: string, header: string): string {
  const sha8 = createHash('sha256').update(header).digest('hex').slice(0, 8);
  const ext = path.extname(csvPath);
  return path.join(path.dirname(csvPath), `${path.basename(csvPath, ext)}.${sha8}${ext || '.csv'}`);
}

type Outcome = { kind: 'written'; written: number } | { kind: 'header-mismatch' };

/** What makes a row one job's measurement: test (with concurrency), metric and the job's submit time. */
const ROW_KEY_COLUMNS = ['test_name', 'metric_type', 'start_timestamp'] as const;

/** The row keys of CSV text with a header, as the file holds them (after whatever escaping it got). */
function rowKeys(text: string): string[] {
  // The tolerant splitter: a torn or garbage line costs only itself, never the rows after it.
  const [head, ...records] = csvRecords(text);
  const at = ROW_KEY_COLUMNS.map((c) => head?.fields.indexOf(c) ?? -1);
  return records
    .filter((r) => r.problem === undefined && r.fields.length === head?.fields.length)
    .map((r) => at.map((i) => (i < 0 ? '' : (r.fields[i] ?? ''))).join('\u0000'));
}

/** The rows whose key is not in `existing` yet (keys compared as written, so escaping cannot differ). */
function newRowsOnly(rows: readonly PerfRow[], header: string, existing: string): PerfRow[] {
  const have = new Set(rowKeys(existing));
  return rows.filter((r) => !have.has(rowKeys(`${header}\n${toCsvBody([r])}`)[0] as string));
}

async function appendUnderLock(
  file: string,
  header: string,
  rows: readonly PerfRow[],
  skipRowsAlreadyThere: boolean,
  onNotice: CsvNotice,
): Promise<Outcome> {
  await mkdir(path.dirname(file), { recursive: true });
  let compromised: Error | undefined;
  let written = 0;
  const release = await lockFile(file, {
    stale: 30_000,
    // Up to ~1 min of waiting: 8+ writers each holding the lock for a few ms. Only a held lock is
    // waited on: a read-only dir or a full disk fails at once (src/util/file-lock.ts).
    retries: 400,
    minTimeout: 5,
    maxTimeout: 200,
    // The default throws from a timer, killing the worker; report it from here instead.
    onCompromised: (err) => {
      compromised = err;
    },
  });
  try {
    await refuseSymlink(file);
    // One descriptor (O_NOFOLLOW, regular files only) for the check, the repair and the append, so what
    // is checked is what is written.
    const fh = await openForAppend(file, true).catch((err: unknown) => {
      throw namedFileError(file, err, 'no rows were written');
    });
    try {
      let head = await readHead(fh);
      if (
        head !== null &&
        !head.endsWithNewline &&
        (head.header === header || header.startsWith(head.header))
      )
        head = await repairTornTail(fh, file, header, head, onNotice);
      if (head !== null && head.header !== header) return { kind: 'header-mismatch' };
      // Redoing a job's results after a crash: rows the killed run already wrote are not written twice.
      // Read under the lock, so two writers cannot both decide a row is missing.
      const todo =
        skipRowsAlreadyThere && head !== null
          ? newRowsOnly(
              rows,
              header,
              (await readRegularFile(file, { maxBytes: MAX_DATA_FILE_BYTES })).toString('utf8'),
            )
          : rows;
      if (todo.length === 0) return { kind: 'written', written: 0 };
      const body = toCsvBody(todo);
      // The header is decided while holding the lock, so exactly one writer ever writes it.
      const text = head === null ? `${header}\n${body}` : `${head.endsWithNewline ? '' : '\n'}${body}`;
      await appendThrough(fh, file, text);
      written = todo.length;
    } finally {
      await fh.close();
    }
  } finally {
    await release().catch(() => undefined);
  }
  if (compromised !== undefined) {
    throw new ResultsError(`lock on ${file} was lost while writing (${compromised.message}); check the rows`);
  }
  return { kind: 'written', written };
}

/**
 * Append rows to the perf CSV (header written only into a new or empty file). A CSV with a
 * different header is never touched: the rows go to a sibling file and a warning says so.
 */
export async function appendPerfRows(
  csvPath: string,
  rows: readonly PerfRow[],
  opts: {
    /**
     * Leave out rows the file already has (same test_name, metric_type and start_timestamp): a job's
     * results redone after a crash must not duplicate the rows the killed run wrote. Reads the file.
     */
    skipRowsAlreadyThere?: boolean;
    /** Hears what was repaired (a torn last line moved aside); default: a console warning. */
    onNotice?: CsvNotice;
  } = {},
): Promise<AppendResult> {
  if (rows.length === 0) return { file: csvPath, written: 0 };
  const header = perfCsvHeader();
  const skip = opts.skipRowsAlreadyThere === true;
  const notice = opts.onNotice ?? warnCsvNotice;
  const first = await appendUnderLock(csvPath, header, rows, skip, notice);
  if (first.kind === 'written') return { file: csvPath, written: first.written };
  const sibling = siblingCsvPath(csvPath, header);
  const second = await appendUnderLock(sibling, header, rows, skip, notice);
  if (second.kind === 'header-mismatch') {
    throw new ResultsError(`${csvPath} and ${sibling} both have a different header; no rows written`);
  }
  return {
    file: sibling,
    written: second.written,
    warning:
      `${csvPath} has a different header than the 17 perf columns, so it was left untouched; ` +
      `${second.written} row(s) were written to ${sibling} instead`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** One row of a perf CSV (ours or the original's): one metric of one concurrency of one test run. */
export interface PerfCsvRow {
  /** Line in the file (the header is line 1). */
  line: number;
  /** The name before `_con:<N>`, e.g. `test_stress[disagg_stress_x]`. */
  test: string;
  concurrency: number;
  /** `metric_type` as written (`DISAGG_SERVER_TTFT`, `SERVER_MEDIAN_TTFT`, a custom metric). */
  metric: string;
  /** `perf_metric`; null only on a row whose state is not `valid` (it measured nothing usable). */
  value: number | null;
  /** `state`; a CSV without the column counts its rows as `valid`. */
  state: string;
  /** Epoch ms of `start_timestamp` / `end_timestamp`; null when absent or unreadable. */
  startTime: number | null;
  endTime: number | null;
}

/** Columns without which a file is not a perf CSV (test_name or its twin perf_case_name). */
const READ_COLUMNS = ['test_name', 'perf_metric', 'metric_type'] as const;

const TIMESTAMP_RE =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `YYYY-MM-DD HH:MM:SS` → epoch ms, read as local time: the original's tracker (`datetime.now()`) and
 * our writer (formatTimestamp) both write the local time without a zone. An explicit zone (`Z`,
 * `+0200`, as the original's general perf tests write `%z`) is honoured. null when unreadable.
 */
export function parseCsvTimestamp(text: string): number | null {
  const m = TIMESTAMP_RE.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const zone = m[7];
  if (!zone) return new Date(y, mo - 1, d, h, mi, s).getTime();
  let t = Date.UTC(y, mo - 1, d, h, mi, s);
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z) return null;
    t -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  return t;
}

/** A perf CSV's rows and the lines that were left out (torn, garbage), with why. */
export interface PerfCsvRead {
  rows: PerfCsvRow[];
  skipped: SkippedLine[];
}

/** One notice naming the file and each skipped line, or undefined when every line was read. */
export function perfCsvNotice(file: string, skipped: readonly SkippedLine[]): string | undefined {
  return skippedNotice(file, skipped);
}

/** Says what a reader left out (default: a console warning). */
export type CsvNotice = (message: string) => void;

export const warnCsvNotice: CsvNotice = (m) => console.warn(`[vitest-disagg] ${m}`);

/** Why one record is no perf row (thrown; the caller adds the line), or the row. */
function perfRowOf(
  fields: readonly string[],
  values: readonly string[],
  line: number,
): PerfCsvRow | undefined {
  if (values.length !== fields.length)
    throw new Error(`${values.length} field(s) where the header has ${fields.length}`);
  const row: Record<string, string | undefined> = {};
  fields.forEach((f, i) => (row[f] = values[i]));
  const state = (row.state ?? '').trim() || (fields.includes('state') ? '' : 'valid');
  const valid = state === 'valid';
  const name = unneutraliseCsvField((row.test_name || row.perf_case_name || '').trim());
  const con = /^(.*)_con:(\d+)$/.exec(name);
  const rawValue = (row.perf_metric ?? '').trim();
  const value = rawValue === '' ? NaN : Number(rawValue);
  const metric = unneutraliseCsvField((row.metric_type ?? '').trim());
  if (!con) {
    if (!valid) return undefined; // a failed row of unknown shape carries nothing to read
    throw new Error(
      `test_name "${name}" does not end in _con:<concurrency> ` +
        `(a perf CSV row is one metric of one concurrency: test_<method>[<test>]_con:<N>)`,
    );
  }
  if (valid && !Number.isFinite(value)) throw new Error(`perf_metric "${rawValue}" is not a number`);
  if (valid && metric === '') throw new Error('metric_type is empty');
  return {
    line,
    test: con[1] ?? '',
    concurrency: Number(con[2]),
    metric,
    value: Number.isFinite(value) ? value : null,
    state,
    startTime: parseCsvTimestamp(row.start_timestamp ?? ''),
    endTime: parseCsvTimestamp(row.end_timestamp ?? ''),
  };
}

/**
 * Every row of a perf CSV's text. A row that cannot be read (torn by a crash or a full disk, a garbage
 * line, a valid row without `…_con:<N>`, a metric or a numeric value) is left out and listed in
 * `skipped` with its line, never fatal; a row of another state is kept (value null when not a number)
 * so callers can say the run was not valid. Only a file that is no perf CSV at all (its header lacks
 * the columns) is an error, naming `file` and the columns.
 */
export function readPerfCsv(text: string, file: string): PerfCsvRead {
  const records = csvRecords(text);
  const head = records[0];
  const skipped: SkippedLine[] = [];
  if (head && !head.terminated && records.length === 1 && perfCsvHeader().startsWith(text.trim())) {
    // Only the start of our header: the very first write was cut short. No rows yet.
    return {
      rows: [],
      skipped: [{ line: 1, reason: 'a torn header (cut short by a crash or a full disk)' }],
    };
  }
  const fields = head?.problem === undefined ? (head?.fields ?? []).map((f) => f.trim()) : [];
  const absent = READ_COLUMNS.filter(
    (c) => !fields.includes(c) && !(c === 'test_name' && fields.includes('perf_case_name')),
  );
  if (absent.length > 0) {
    throw new ParseError(
      `${file}: not a perf CSV: column(s) ${absent.join(', ')} missing (found: ` +
        `${fields.join(', ') || 'no header'}; expected the 17 columns ${PERF_CSV_COLUMNS.join(', ')})`,
    );
  }
  const rows: PerfCsvRow[] = [];
  for (const rec of records.slice(1)) {
    // A last line without its newline: a write that stopped short (crash, full disk).
    const torn = !rec.terminated ? ', a torn last line' : '';
    if (rec.problem !== undefined) {
      skipped.push({ line: rec.line, reason: `${rec.problem}${torn}` });
      continue;
    }
    try {
      const row = perfRowOf(fields, rec.fields, rec.line);
      if (row) rows.push(row);
    } catch (err) {
      skipped.push({ line: rec.line, reason: `${(err as Error).message}${torn}` });
    }
  }
  return { rows, skipped };
}

/**
 * The rows of a perf CSV's text (see readPerfCsv); what was left out is said once through `onNotice`,
 * naming `file` and the lines.
 */
export function readPerfCsvText(
  text: string,
  file: string,
  onNotice: CsvNotice = warnCsvNotice,
): PerfCsvRow[] {
  const { rows, skipped } = readPerfCsv(text, file);
  const notice = perfCsvNotice(file, skipped);
  if (notice) onNotice(notice);
  return rows;
}
