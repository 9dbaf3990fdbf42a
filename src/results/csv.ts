// Appends rows to the shared perf CSV. Many Vitest workers (threads and processes) and several
// sessions write the same file, so every append takes a cross-process lock (proper-lockfile's
// atomic mkdir), decides header-or-not while holding it, and writes the batch in one call.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import Papa from 'papaparse';
import lockfile from 'proper-lockfile';
import { PERF_CSV_COLUMNS, type PerfRow } from './perf-rows.js';
import { ResultsError } from '../errors.js';

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
  const data = rows.map((r) => PERF_CSV_COLUMNS.map((c) => r[c]));
  return `${Papa.unparse(data, { newline: '\n', header: false })}\n`;
}

interface Head {
  header: string;
  endsWithNewline: boolean;
}

/** First line and last byte of a file; null when it is missing or empty. */
async function readHead(file: string): Promise<Head | null> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (size === 0) return null;
  const fh = await open(file, 'r');
  try {
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

type Outcome = 'written' | 'header-mismatch';

async function appendUnderLock(file: string, header: string, body: string): Promise<Outcome> {
  await mkdir(path.dirname(file), { recursive: true });
  let compromised: Error | undefined;
  const release = await lockfile.lock(file, {
    realpath: false, // the CSV may not exist yet
    stale: 30_000,
    // Up to ~1 min of waiting: 8+ writers each holding the lock for a few ms.
    retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 200, randomize: true },
    // The default throws from a timer, killing the worker; report it from here instead.
    onCompromised: (err) => {
      compromised = err;
    },
  });
  try {
    const head = await readHead(file);
    if (head !== null && head.header !== header) return 'header-mismatch';
    // The header is decided while holding the lock, so exactly one writer ever writes it.
    const text = head === null ? `${header}\n${body}` : `${head.endsWithNewline ? '' : '\n'}${body}`;
    await appendFile(file, text, 'utf8');
  } finally {
    await release().catch(() => undefined);
  }
  if (compromised !== undefined) {
    throw new ResultsError(`lock on ${file} was lost while writing (${compromised.message}); check the rows`);
  }
  return 'written';
}

/**
 * Append rows to the perf CSV (header written only into a new or empty file). A CSV with a
 * different header is never touched: the rows go to a sibling file and a warning says so.
 */
export async function appendPerfRows(csvPath: string, rows: readonly PerfRow[]): Promise<AppendResult> {
  if (rows.length === 0) return { file: csvPath, written: 0 };
  const header = perfCsvHeader();
  const body = toCsvBody(rows);
  if ((await appendUnderLock(csvPath, header, body)) === 'written') {
    return { file: csvPath, written: rows.length };
  }
  const sibling = siblingCsvPath(csvPath, header);
  if ((await appendUnderLock(sibling, header, body)) === 'header-mismatch') {
    throw new ResultsError(`${csvPath} and ${sibling} both have a different header; no rows written`);
  }
  return {
    file: sibling,
    written: rows.length,
    warning:
      `${csvPath} has a different header than the 17 perf columns, so it was left untouched; ` +
      `${rows.length} row(s) were written to ${sibling} instead`,
  };
}
