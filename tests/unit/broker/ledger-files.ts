// Tests look at what the ledger holds, live (`jobs.json`) and archived (the runs' archives), at once, and
// build the finished jobs of earlier runs it holds.
import fs from 'node:fs';
import path from 'node:path';
import { runDirFor } from '../../../src/broker/job-dirs.js';
import { jobIdentity, mergeJobs } from '../../../src/broker/ledger-archive.js';
import { parseJournal, replayJournal } from '../../../src/broker/ledger-journal.js';
import type { LedgerData, LedgerJob } from '../../../src/broker/ledger.js';
import { LEDGER_JOURNAL, RUN_JOBS_ARCHIVE } from '../../../src/jobdir/files.js';

/**
 * The live ledger as a reader sees it: `jobs.json` with the journal lines of its generation applied (the
 * synchronous twin of `Ledger.read`, for tests that wait on the file).
 */
export function readLive(out: string): LedgerData {
  const journalFile = path.join(out, LEDGER_JOURNAL);
  const journal = fs.existsSync(journalFile) ? fs.readFileSync(journalFile, 'utf8') : '';
  const file = path.join(out, 'jobs.json');
  const data: LedgerData = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as LedgerData)
    : { version: 1, runs: [], jobs: [] };
  const g = data.generation ?? 0;
  return replayJournal(
    data,
    parseJournal(journal).records.filter((r) => r.g === g),
  );
}

/** Every archived line of an output dir, as written (duplicates kept). */
export function archivedLines(out: string): LedgerJob[] {
  const runs = path.join(out, 'slurm_logs', 'runs');
  if (!fs.existsSync(runs)) return [];
  const jobs: LedgerJob[] = [];
  for (const run of fs.readdirSync(runs).sort()) {
    const file = path.join(runs, run, RUN_JOBS_ARCHIVE);
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n'))
      if (line.trim()) jobs.push(JSON.parse(line) as LedgerJob);
  }
  return jobs;
}

/** `jobs.json` with its `jobs` replaced by every job, live or archived, each once. */
export function readWithArchive(out: string): LedgerData {
  const live = readLive(out);
  const seen = new Set<string>();
  const archived = archivedLines(out).filter((j) => !seen.has(jobIdentity(j)) && !!seen.add(jobIdentity(j)));
  return { ...live, jobs: mergeJobs(archived, live.jobs) };
}

/** The id of earlier run number `r` (they sort in run order). */
export const runIdOf = (r: number): string => `20250101-0000${String(r).padStart(2, '0')}-abcd`;

/**
 * A finished, judged job of earlier run `r` in output dir `out` (submitted and ended `ms` ms into
 * second `r`), as the ledger keeps it once judged; `state` COMPLETED unless given.
 */
export function judgedJob(
  out: string,
  r: number,
  job: Pick<LedgerJob, 'testId' | 'configHash' | 'jobId' | 'jobDir'> & Partial<Pick<LedgerJob, 'state'>>,
  ms = 0,
): LedgerJob {
  const at = new Date(Date.UTC(2025, 0, 1, 0, 0, r, ms)).toISOString();
  return {
    testId: job.testId,
    configHash: job.configHash,
    executor: 'slurm',
    jobId: job.jobId,
    jobDir: job.jobDir,
    localLogDir: runDirFor(out, runIdOf(r), job.testId),
    state: job.state ?? 'COMPLETED',
    exitCode: '0:0',
    runId: runIdOf(r),
    submittedAt: at,
    updatedAt: at,
    endedAt: at,
    consumed: true,
  };
}
