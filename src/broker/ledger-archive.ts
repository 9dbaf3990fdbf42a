// The per-run archive of finished jobs: `slurm_logs/runs/<runId>/<RUN_JOBS_ARCHIVE>`, one JSON line per
// job entry, append-only. `jobs.json` keeps what is live (intents, unfinished and unjudged jobs); a job
// that is final and judged (or whose run ended) moves here, so a ledger write costs what is live, not
// every job of every earlier run. An entry is appended (and fsynced) BEFORE it leaves `jobs.json`: a
// crash in between leaves it in both, which readers dedupe (`jobIdentity`), never in neither.

import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { RUN_JOBS_ARCHIVE } from '../jobdir/files.js';
import { fsyncDir } from '../util/atomic-write.js';
import { logsRoot, RUNS_DIR } from './job-dirs.js';
import type { LedgerJob } from './ledger-types.js';

/** A run id as a dir name: ours are `YYYYMMDD-HHMMSS-xxxx`; a hand-edited one must not escape `runs/`. */
export function runDirName(runId: string): string {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(runId)
    ? runId
    : `run-${encodeURIComponent(runId).replace(/\./g, '%2E')}`;
}

export function archiveFileOf(outputPath: string, runId: string): string {
  return path.join(logsRoot(outputPath), RUNS_DIR, runDirName(runId), RUN_JOBS_ARCHIVE);
}

/** What makes two entries the same job (a job id alone repeats: local pids and SLURM ids wrap). */
export function jobIdentity(j: Pick<LedgerJob, 'executor' | 'jobId' | 'testId' | 'submittedAt'>): string {
  return `${j.executor}\u0000${j.jobId}\u0000${j.testId}\u0000${j.submittedAt}`;
}

/** Appends these entries to their runs' archives and fsyncs them; resolves once they are on disk. */
export async function appendToArchive(outputPath: string, jobs: readonly LedgerJob[]): Promise<string[]> {
  const byRun = new Map<string, LedgerJob[]>();
  for (const j of jobs) {
    const list = byRun.get(j.runId);
    if (list) list.push(j);
    else byRun.set(j.runId, [j]);
  }
  const files: string[] = [];
  for (const [runId, list] of byRun) {
    const file = archiveFileOf(outputPath, runId);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const existed = fsSync.existsSync(file);
    const h = await fs.open(file, 'a');
    try {
      await h.write(list.map((j) => JSON.stringify(j)).join('\n') + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    if (!existed) await fsyncDir(path.dirname(file));
    files.push(file);
  }
  return files;
}

export function isJob(v: unknown): v is LedgerJob {
  if (typeof v !== 'object' || v === null) return false;
  const j = v as Record<string, unknown>;
  return typeof j.jobId === 'string' && typeof j.testId === 'string' && typeof j.runId === 'string';
}

export interface ArchiveRead {
  jobs: LedgerJob[];
  /** Lines that are not a job entry (a line torn by a crash mid-append): left out, counted. */
  skipped: number;
  files: string[];
}

/**
 * Every archived entry, run by run (run ids sort by start time), each job once; only these runs' when
 * `runIds` is given (a run's own report needs its own jobs, not a year of them).
 */
export async function readArchive(outputPath: string, runIds?: Iterable<string>): Promise<ArchiveRead> {
  const runs = path.join(logsRoot(outputPath), RUNS_DIR);
  let names: string[];
  try {
    names = runIds ? [...new Set([...runIds].map(runDirName))].sort() : (await fs.readdir(runs)).sort();
  } catch {
    return { jobs: [], skipped: 0, files: [] };
  }
  const out: ArchiveRead = { jobs: [], skipped: 0, files: [] };
  const seen = new Set<string>();
  for (const name of names) {
    const file = path.join(runs, name, RUN_JOBS_ARCHIVE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue;
    }
    out.files.push(file);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        out.skipped++;
        continue;
      }
      if (!isJob(entry)) {
        out.skipped++;
        continue;
      }
      const key = jobIdentity(entry);
      if (seen.has(key)) continue;
      seen.add(key);
      out.jobs.push(entry);
    }
  }
  return out;
}

/**
 * Every job the output dir knows of, archived and live, each once (the `jobs.json` entry wins over an
 * archived twin a crash left), in submission order.
 */
export function mergeJobs(archived: readonly LedgerJob[], live: readonly LedgerJob[]): LedgerJob[] {
  const liveKeys = new Set(live.map(jobIdentity));
  const all = [...archived.filter((j) => !liveKeys.has(jobIdentity(j))), ...live];
  // Stable: entries submitted in the same instant keep their order.
  return all
    .map((j, i) => ({ j, i }))
    .sort((a, b) =>
      a.j.submittedAt < b.j.submittedAt ? -1 : a.j.submittedAt > b.j.submittedAt ? 1 : a.i - b.i,
    )
    .map((x) => x.j);
}

/**
 * How many entries the archives hold, counted by line without parsing them (`disagg cancel` tells how
 * many final jobs it left alone; every archived entry is final). A crash's duplicate counts twice.
 */
export async function countArchived(outputPath: string): Promise<number> {
  const runs = path.join(logsRoot(outputPath), RUNS_DIR);
  let names: string[];
  try {
    names = await fs.readdir(runs);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    let buf: Buffer;
    try {
      buf = await fs.readFile(path.join(runs, name, RUN_JOBS_ARCHIVE));
    } catch {
      continue;
    }
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  }
  return n;
}
