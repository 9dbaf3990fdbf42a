// Each test's latest archived job, kept beside the runs' archives (`slurm_logs/runs/<LATEST_JOBS_SUMMARY>`):
// `disagg report` of a whole output dir needs one job per test, not the 150,000 entries a year of runs
// archives. The archives stay the source of truth and the summary is never trusted blindly: it records
// the size and mtime of every archive it covers. An archive that only grew (appended) or is new is read
// and merged in; any other change (an archive shrank, was rewritten or removed, a damaged or foreign
// summary) rebuilds it from all archives. Readers keep it current, so the broker's write path is unchanged.

import fs from 'node:fs/promises';
import path from 'node:path';
import { LATEST_JOBS_SUMMARY, RUN_JOBS_ARCHIVE } from '../jobdir/files.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { logsRoot, RUNS_DIR } from './job-dirs.js';
import { isJob } from './ledger-archive.js';
import type { LedgerJob } from './ledger-types.js';

interface ArchiveStamp {
  size: number;
  mtimeMs: number;
  /** Lines of this archive that are not a job entry (torn by a crash mid-append). */
  skipped: number;
  /** Its newline count (what `countArchived` counts): `disagg cancel` tells it without reading a year. */
  lines: number;
}

interface Latest {
  /** The run dir whose archive holds it: breaks a tie of equal submission times as the archives' order. */
  run: string;
  job: LedgerJob;
}

interface SummaryFile {
  version: 1;
  archives: Record<string, ArchiveStamp>;
  latest: Record<string, Latest>;
}

export interface LatestArchived {
  /** One entry per test, its latest archived job, in submission order. */
  jobs: LedgerJob[];
  /** Archived lines that are not a job entry, over all archives. */
  skipped: number;
  /** How the summary was used: as saved, caught up with grown or new archives, or rebuilt from all. */
  source: 'summary' | 'caught-up' | 'rebuilt';
}

export function summaryFileOf(outputPath: string): string {
  return path.join(logsRoot(outputPath), RUNS_DIR, LATEST_JOBS_SUMMARY);
}

const isStamp = (v: unknown): v is ArchiveStamp => {
  const s = v as Record<string, unknown> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    Number.isFinite(s.size) &&
    Number.isFinite(s.mtimeMs) &&
    Number.isInteger(s.skipped) &&
    Number.isInteger(s.lines)
  );
};

/** The summary as saved, or undefined when missing, not JSON or not of this shape (then it is rebuilt). */
async function readSummary(file: string): Promise<SummaryFile | undefined> {
  let data: unknown;
  try {
    data = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const d = data as Partial<SummaryFile> | null;
  if (typeof d !== 'object' || d === null || d.version !== 1) return undefined;
  if (typeof d.archives !== 'object' || d.archives === null || Array.isArray(d.archives)) return undefined;
  if (typeof d.latest !== 'object' || d.latest === null || Array.isArray(d.latest)) return undefined;
  if (!Object.values(d.archives).every(isStamp)) return undefined;
  for (const [test, l] of Object.entries(d.latest)) {
    const v = l as Partial<Latest> | null;
    if (typeof v !== 'object' || v === null || typeof v.run !== 'string' || !(v.run in d.archives))
      return undefined;
    if (!isJob(v.job) || v.job.testId !== test || typeof v.job.submittedAt !== 'string') return undefined;
  }
  return d as SummaryFile;
}

/** Size and mtime of every run's archive, by run dir name (runs without an archive are left out). */
async function stampArchives(runsDir: string): Promise<Map<string, { size: number; mtimeMs: number }>> {
  let names: string[];
  try {
    names = await fs.readdir(runsDir);
  } catch {
    return new Map();
  }
  const stats = await Promise.all(
    names.map(async (name) => {
      try {
        const st = await fs.stat(path.join(runsDir, name, RUN_JOBS_ARCHIVE));
        return st.isFile() ? ([name, { size: st.size, mtimeMs: st.mtimeMs }] as const) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return new Map(stats.filter((s) => s !== undefined));
}

/** Is `a` later than `b` in the order the archives are merged in (submission time, then run dir)? */
const laterOrSame = (a: Latest, b: Latest): boolean =>
  a.job.submittedAt !== b.job.submittedAt
    ? a.job.submittedAt > b.job.submittedAt
    : a.run !== b.run
      ? a.run > b.run
      : true; // same run: a later line of the same archive

/** Reads one archive into `latest`; returns its lines that are not job entries and its newlines. */
async function mergeArchive(
  file: string,
  run: string,
  latest: Map<string, Latest>,
): Promise<{ skipped: number; lines: number }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return { skipped: 0, lines: 0 };
  }
  let skipped = 0;
  const lines = text.split('\n');
  for (const line of lines) {
    if (!line.trim()) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (!isJob(entry)) {
      skipped++;
      continue;
    }
    const next = { run, job: entry };
    const was = latest.get(entry.testId);
    if (!was || laterOrSame(next, was)) latest.set(entry.testId, next);
  }
  return { skipped, lines: lines.length - 1 };
}

/**
 * Each test's latest archived job entry, from the summary when it still describes the archives, else
 * caught up or rebuilt from them (and saved again; a read-only output dir is read, not summarised).
 */
export async function latestArchivedJobs(outputPath: string): Promise<LatestArchived> {
  const runsDir = path.join(logsRoot(outputPath), RUNS_DIR);
  const file = summaryFileOf(outputPath);
  // Stamps first, then reading: an archive appended to meanwhile is read whole now and again next time.
  const [now, saved] = await Promise.all([stampArchives(runsDir), readSummary(file)]);
  let base = saved;
  const toRead: string[] = [];
  if (base) {
    for (const name of Object.keys(base.archives))
      if (!now.has(name)) {
        base = undefined; // an archive went away: entries the summary took from it may be gone
        break;
      }
  }
  if (base) {
    for (const [name, st] of now) {
      const was = base.archives[name];
      if (was && was.size === st.size && was.mtimeMs === st.mtimeMs) continue;
      if (was && st.size <= was.size) {
        base = undefined; // rewritten or cut: not an append
        break;
      }
      toRead.push(name);
    }
  }
  const archives: Record<string, ArchiveStamp> = {};
  const latest = new Map<string, Latest>();
  if (base) {
    for (const [name, st] of Object.entries(base.archives)) archives[name] = st;
    for (const [test, l] of Object.entries(base.latest)) latest.set(test, l);
  } else toRead.splice(0, toRead.length, ...now.keys());
  for (const name of toRead.sort()) {
    const st = now.get(name) as { size: number; mtimeMs: number };
    const counts = await mergeArchive(path.join(runsDir, name, RUN_JOBS_ARCHIVE), name, latest);
    archives[name] = { ...st, ...counts };
  }
  if (!base || toRead.length) {
    const data: SummaryFile = { version: 1, archives, latest: Object.fromEntries(latest) };
    try {
      if (now.size) await writeFileAtomic(file, JSON.stringify(data) + '\n');
    } catch {
      /* a read-only output dir: the next reader rebuilds it again */
    }
  }
  const jobs = [...latest.values()]
    .sort((a, b) => (laterOrSame(a, b) ? (laterOrSame(b, a) ? 0 : 1) : -1))
    .map((l) => l.job);
  return {
    jobs,
    skipped: Object.values(archives).reduce((n, a) => n + a.skipped, 0),
    source: !base ? 'rebuilt' : toRead.length ? 'caught-up' : 'summary',
  };
}

/**
 * How many entries the archives hold, counted by line as `countArchived` does, but from the summary for
 * every archive it still describes (size and mtime unchanged): only the others are read. The summary is
 * not rewritten here (the report keeps it), so this stays a read of one small file and a stat per run.
 */
export async function countArchivedEntries(outputPath: string): Promise<number> {
  const runsDir = path.join(logsRoot(outputPath), RUNS_DIR);
  const [now, saved] = await Promise.all([stampArchives(runsDir), readSummary(summaryFileOf(outputPath))]);
  const counts = await Promise.all(
    [...now].map(async ([name, st]) => {
      const was = saved?.archives[name];
      if (was && was.size === st.size && was.mtimeMs === st.mtimeMs) return was.lines;
      try {
        const buf = await fs.readFile(path.join(runsDir, name, RUN_JOBS_ARCHIVE));
        let n = 0;
        for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
        return n;
      } catch {
        return 0;
      }
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
