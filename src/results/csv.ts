// The shared perf CSV: appends and the one reader. Many Vitest workers (threads and processes) and
// several sessions write the same file, so every append takes a cross-process lock (proper-lockfile's
// atomic mkdir), decides header-or-not while holding it, and writes the batch in one call. The reader
// serves `disagg report` and `disagg compare` alike, for our CSV and the original framework's.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import { PERF_CSV_COLUMNS, type PerfRow } from './perf-rows.js';
import { appendNoFollow, openForAppend, refuseSymlink } from '../util/append-no-follow.js';
import { neutraliseCsvField, unneutraliseCsvField } from '../util/csv-formula.js';
import { lockFile } from '../util/file-lock.js';
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

interface Head {
  header: string;
  endsWithNewline: boolean;
}

/** First line and last byte of a file; null when it is missing or empty. Read from one descriptor, no symlink. */
async function readHead(file: string): Promise<Head | null> {
  // Opened as for the append itself (O_NOFOLLOW, regular files only), so what is checked is what is written.
  const fh = await openForAppend(file, true);
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return null;
    const buf = Buffer.alloc(Math.min(size, 64 * 1024));
    await fh.read(buf, 0, buf.length, 0);
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    const text = buf.toString('utf8').replace(/^\uFEFF/, '');
    const nl = text.indexOf('\n');
    const header = (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
    return { header, endsWithNewline: last[0] === 10 };
  } finally {
    await fh.close();
  }
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
  const parsed = Papa.parse<Record<string, string | undefined>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: true,
  });
  return parsed.data.map((r) => ROW_KEY_COLUMNS.map((c) => r[c] ?? '').join('\u0000'));
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
    const head = await readHead(file);
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
    await appendNoFollow(file, text);
    written = todo.length;
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
  } = {},
): Promise<AppendResult> {
  if (rows.length === 0) return { file: csvPath, written: 0 };
  const header = perfCsvHeader();
  const skip = opts.skipRowsAlreadyThere === true;
  const first = await appendUnderLock(csvPath, header, rows, skip);
  if (first.kind === 'written') return { file: csvPath, written: first.written };
  const sibling = siblingCsvPath(csvPath, header);
  const second = await appendUnderLock(sibling, header, rows, skip);
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

/**
 * Every row of a perf CSV's text. `file` names the source in errors, which give the line and what to do.
 * A valid row must name its concurrency (`…_con:<N>`), a metric and a numeric value; a row of another
 * state is kept (value null when not a number) so callers can say the run was not valid.
 */
export function readPerfCsvText(text: string, file: string): PerfCsvRow[] {
  const parsed = Papa.parse<Record<string, string | undefined>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: true,
  });
  const fields = parsed.meta.fields ?? [];
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
  parsed.data.forEach((row, i) => {
    const line = i + 2;
    const state = (row.state ?? '').trim() || (fields.includes('state') ? '' : 'valid');
    const valid = state === 'valid';
    const name = unneutraliseCsvField((row.test_name || row.perf_case_name || '').trim());
    const con = /^(.*)_con:(\d+)$/.exec(name);
    const rawValue = (row.perf_metric ?? '').trim();
    const value = rawValue === '' ? NaN : Number(rawValue);
    const metric = unneutraliseCsvField((row.metric_type ?? '').trim());
    if (!con) {
      if (!valid) return; // a failed row of unknown shape carries nothing to read
      throw new ParseError(
        `${file}:${line}: test_name "${name}" does not end in _con:<concurrency> ` +
          `(a perf CSV row is one metric of one concurrency: test_<method>[<test>]_con:<N>)`,
      );
    }
    if (valid && !Number.isFinite(value))
      throw new ParseError(`${file}:${line}: perf_metric "${rawValue}" is not a number`);
    if (valid && metric === '') throw new ParseError(`${file}:${line}: metric_type is empty`);
    rows.push({
      line,
      test: con[1] ?? '',
      concurrency: Number(con[2]),
      metric,
      value: Number.isFinite(value) ? value : null,
      state,
      startTime: parseCsvTimestamp(row.start_timestamp ?? ''),
      endTime: parseCsvTimestamp(row.end_timestamp ?? ''),
    });
  });
  return rows;
}
