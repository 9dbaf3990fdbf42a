// lm-evaluation-harness result tables (the accuracy eval logs of src/jobdir/files.ts). Tables are read cell by cell
// with columns located by header name, not with the original's single regex, which misses the
// `strict-match` continuation row, padded task cells and non-exact_match metrics, and reads the
// stderr column when values are short (`|  0.7|`) — TRT-LLM disagg reporting/accuracy_parser.py.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AccuracyResultRow, AccuracyRun } from '../types.js';
import { cleanLine, splitLines } from './lines.js';
import { ACCURACY_LOG_RE } from '../jobdir/files.js';

/** `<model> (<model_args>), gen_kwargs: (…), limit: …, num_fewshot: …, batch_size: …` */
const HEADER_LINE = /^\S.*\), gen_kwargs: \(.*\), limit: .*, num_fewshot: .*, batch_size: /;
const SEPARATOR_CELL = /^:?-+:?$/;

interface Columns {
  kind: 'results' | 'groups';
  task: number;
  version: number;
  filter: number;
  nShot: number;
  metric: number;
  value: number;
  stderr: number;
}

function splitCells(line: string): string[] {
  let body = line.trim();
  if (body.startsWith('|')) body = body.slice(1);
  if (body.endsWith('|')) body = body.slice(0, -1);
  return body.split('|');
}

/** Columns from a header row, or null when the row is not an lm-eval table header. */
function readHeader(cells: string[]): Columns | null {
  const names = cells.map((c) => c.trim().toLowerCase());
  const first = names[0];
  // Very old lm-eval printed `Task` / `Group`.
  if (!['tasks', 'task', 'groups', 'group'].includes(first)) return null;
  const value = names.indexOf('value');
  const metric = names.indexOf('metric');
  if (value === -1 || metric === -1) return null;
  return {
    kind: first.startsWith('group') ? 'groups' : 'results',
    task: 0,
    version: names.indexOf('version'),
    filter: names.indexOf('filter'),
    nShot: names.indexOf('n-shot'),
    metric,
    value,
    stderr: names.indexOf('stderr'),
  };
}

/** Subtask aliases are indented with ` - ` / `  - `; the name is what follows. */
function taskName(cell: string): string {
  return cell.trim().replace(/^-\s*/, '');
}

function toNumber(cell: string | undefined): number | null {
  const text = (cell ?? '').trim();
  if (text === '' || /^(n\/a|none|nan)$/i.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function key(r: AccuracyResultRow): string {
  return `${r.task.toLowerCase()}\u0000${r.filter}\u0000${r.metric}`;
}

/** Line-fed parser; `finish` returns the runs. */
export class AccuracyLogParser {
  private readonly runs: AccuracyRun[] = [];
  private run: AccuracyRun = { results: [] };
  private seen = new Map<string, number>();
  private pendingHeader: string | undefined;
  private columns: Columns | null = null;
  private lastTask = '';
  private lastVersion: string | null = null;

  push(raw: string): void {
    const line = cleanLine(raw).trimEnd();
    if (!line.trimStart().startsWith('|')) {
      this.columns = null;
      if (HEADER_LINE.test(line)) this.pendingHeader = line;
      return;
    }
    const cells = splitCells(line);
    if (this.columns === null) {
      this.columns = readHeader(cells);
      this.lastTask = '';
      this.lastVersion = null;
      return;
    }
    if (cells.every((c) => SEPARATOR_CELL.test(c.trim()) || c.trim() === '')) return;
    this.pushRow(cells, this.columns);
  }

  /** Table state does not carry over from one file to the next. */
  endFile(): void {
    this.columns = null;
  }

  private pushRow(cells: string[], col: Columns): void {
    const taskCell = taskName(cells[col.task] ?? '');
    // Continuation rows leave task and version blank: they belong to the row above.
    if (taskCell !== '') {
      this.lastTask = taskCell;
      const v = col.version === -1 ? '' : (cells[col.version] ?? '').trim();
      this.lastVersion = v === '' ? null : v;
    }
    const value = toNumber(cells[col.value]);
    if (this.lastTask === '' || value === null) return;
    const nShot = col.nShot === -1 ? null : toNumber(cells[col.nShot]);
    const row: AccuracyResultRow = {
      task: this.lastTask,
      filter: col.filter === -1 ? 'none' : (cells[col.filter] ?? '').trim() || 'none',
      metric: (cells[col.metric] ?? '').trim(),
      value,
      stderr: col.stderr === -1 ? null : toNumber(cells[col.stderr]),
      n_shot: nShot === null ? null : Math.trunc(nShot),
      version: this.lastVersion,
    };
    this.add(row, col.kind);
  }

  private add(row: AccuracyResultRow, kind: Columns['kind']): void {
    const k = key(row);
    const at = this.seen.get(k);
    if (at !== undefined) {
      // The groups table repeats the group rows of the results table it follows: same run.
      if (kind === 'groups') {
        this.run.results[at] = row;
        return;
      }
      // A repeated task/filter/metric is a second evaluation (e.g. before and after the benchmark).
      this.closeRun();
    }
    if (this.run.results.length === 0 && this.pendingHeader !== undefined)
      this.run.header = this.pendingHeader;
    this.seen.set(k, this.run.results.length);
    this.run.results.push(row);
  }

  private closeRun(): void {
    if (this.run.results.length > 0) this.runs.push(this.run);
    this.run = { results: [] };
    this.seen = new Map();
  }

  finish(): AccuracyRun[] {
    this.closeRun();
    return [...this.runs];
  }
}

export function parseAccuracyText(text: string): AccuracyRun[] {
  const parser = new AccuracyLogParser();
  for (const line of splitLines(text)) parser.push(line);
  return parser.finish();
}

async function feed(file: string, parser: AccuracyLogParser): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) parser.push(line);
  parser.endFile();
}

export async function parseAccuracyLog(file: string): Promise<AccuracyRun[]> {
  return parseAccuracyLogs([file]);
}

/**
 * Several logs read as one, like the original's concatenation: the per-task logs of one job
 * (gsm8k, mmlu…) form one run; only a repeated task/filter/metric starts the next run.
 */
export async function parseAccuracyLogs(files: readonly string[]): Promise<AccuracyRun[]> {
  const parser = new AccuracyLogParser();
  for (const file of files) await feed(file, parser);
  return parser.finish();
}

/** The accuracy eval logs of a job dir (current and older names, see the job-dir contract), sorted. */
export async function findAccuracyLogs(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => ACCURACY_LOG_RE.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}
