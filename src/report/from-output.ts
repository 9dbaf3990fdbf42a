// Report data from an output dir: every test's latest job dir (`slurm_logs/<test>` or its `_ERROR`
// twin), its results file and config.yaml, the ledger (`jobs.json` and the runs' archives), the perf CSV for tests without
// results file, and `history.jsonl` when present.
import { CONFIG_FILE } from '../jobdir/files.js';
import fs from 'node:fs';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  ERROR_SUFFIX,
  latestLogsOf,
  logsRoot,
  newestRunDirs,
  parseRunDir,
  RUNS_DIR,
} from '../broker/job-dirs.js';
import { latestArchivedJobs } from '../broker/archive-summary.js';
import { Ledger, type LedgerJob } from '../broker/ledger.js';
import { mergeJobs } from '../broker/ledger-archive.js';
import { perfCsvPath } from '../results/csv.js';
import type { DisaggConfig } from '../types.js';
import { testsFromCsv } from './from-csv.js';
import { testFromSources } from './from-results.js';
import { gpuCount } from './gpus.js';
import { workloadOf, workloadOfTestId } from './workload.js';
import { readHistory, TREND_RUNS } from './history.js';
import type { ReportData, ReportTest } from './model.js';
import { readResultsFile } from './results-file.js';
import { ParseError } from '../errors.js';

/** Test ids with a link (or legacy dir) under `slurm_logs/`. */
function linkedTests(outputPath: string): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(logsRoot(outputPath));
  } catch {
    return [];
  }
  return names
    .filter((n) => n !== RUNS_DIR && !n.includes('.tmp-'))
    .map((n) => (n.endsWith(ERROR_SUFFIX) ? n.slice(0, -ERROR_SUFFIX.length) : n));
}

/** The run ids of these job dirs (`slurm_logs/runs/<runId>/<test>`); undefined (= all) for a dir elsewhere. */
function runsOf(dirs: ReadonlyArray<string | undefined>): string[] | undefined {
  const ids = new Set<string>();
  for (const dir of dirs) {
    if (!dir) continue;
    const runId = parseRunDir(dir)?.runId;
    if (!runId) return undefined;
    ids.add(runId);
  }
  return [...ids];
}

/** GPUs and workload (model · ISL/OSL) of the resolved config the job dir received, when it can be read. */
export async function configFactsOfJobDir(dir: string): Promise<{ gpus?: number; workload?: string }> {
  try {
    const text = await readRegularFile(path.join(dir, CONFIG_FILE), { maxBytes: MAX_DATA_FILE_BYTES });
    const config = parseYaml(text.toString('utf8')) as DisaggConfig;
    return { gpus: gpuCount(config), workload: workloadOf(config) };
  } catch {
    return {};
  }
}

/** GPUs of the resolved config the job dir received, when it can be read. */
export async function gpusOfJobDir(dir: string): Promise<number | undefined> {
  return (await configFactsOfJobDir(dir)).gpus;
}

export interface OutputDirOptions {
  /** Only these tests, in this order; default: every test found. */
  testIds?: readonly string[];
  /**
   * The tests of the run that just ended, each with its own log dir (undefined: the test had no job):
   * always shown, read from there and marked `inRun`. Every other test of the output dir is shown as its
   * latest logs left it, so a run of some configs never hides the others.
   */
  run?: ReadonlyMap<string, string | undefined>;
  title?: string;
  /** Called after each test is read (a progress bar for big output dirs). */
  onProgress?: (done: number, total: number) => void;
}

export async function loadOutputDir(outputPath: string, opts: OutputDirOptions = {}): Promise<ReportData> {
  const notes: string[] = [];
  if (!fs.existsSync(outputPath)) throw new ParseError(`${outputPath}: no such output dir`);
  let jobs: LedgerJob[] = [];
  try {
    // A run's report reads its own runs' archives (the other tests are shown from their latest logs);
    // a report of the whole dir reads them all.
    const runIds = opts.run ? runsOf([...opts.run.values()]) : undefined;
    let skipped: number;
    if (runIds) {
      const all = await new Ledger(outputPath).readAll(runIds);
      jobs = all.jobs;
      skipped = all.skipped;
    } else {
      // Only each test's latest job is shown: the archives' summary has it (a year of runs archives
      // 150,000 entries); the live ledger is read as ever (`readAll` of no run's archive).
      const [archived, live] = await Promise.all([
        latestArchivedJobs(outputPath),
        new Ledger(outputPath).readAll([]),
      ]);
      jobs = mergeJobs(archived.jobs, live.jobs);
      skipped = archived.skipped;
    }
    if (skipped) notes.push(`${outputPath}: ${skipped} archived job line(s) not understood, left out`);
  } catch (err) {
    notes.push((err as Error).message);
  }
  const latestJob = new Map<string, LedgerJob>();
  for (const j of jobs) latestJob.set(j.testId, j); // appended in submission order: the last one wins
  const run = opts.run;
  const ids =
    opts.testIds ??
    [...new Set([...linkedTests(outputPath), ...latestJob.keys(), ...(run?.keys() ?? [])])].sort();
  const tests: ReportTest[] = [];
  // Listing every run dir (a year of runs × hundreds of tests) only when a test has no link to its logs:
  // a run's report of linked tests never does.
  let runDirs: Map<string, string> | undefined;
  const allRunDirs = () => (runDirs ??= newestRunDirs(outputPath));
  for (const testId of ids) {
    const inRun = run?.has(testId);
    const logDir = inRun ? run?.get(testId) : latestLogsOf(outputPath, testId, allRunDirs);
    let results;
    try {
      results = logDir ? await readResultsFile(logDir) : undefined;
    } catch (err) {
      notes.push((err as Error).message);
    }
    const ledger = latestJob.get(testId);
    // The ledger entry belongs to these logs only when it names the same job.
    const sameJob = !results?.jobId || !ledger || ledger.jobId === results.jobId;
    const facts = logDir ? await configFactsOfJobDir(logDir) : {};
    const gpus = results?.run?.gpus ?? facts.gpus;
    const workload = facts.workload ?? workloadOfTestId(testId);
    const test = testFromSources({
      testId,
      logDir,
      results,
      ledger: sameJob ? ledger : undefined,
      gpus,
      workload,
    });
    if (inRun !== undefined) test.inRun = inRun;
    tests.push(test);
    opts.onProgress?.(tests.length, ids.length);
  }
  const csv = perfCsvPath(outputPath);
  if ((!tests.length || tests.some((t) => !t.perf.length)) && fs.existsSync(csv)) {
    try {
      const csvTests = await testsFromCsv(csv, (n) => notes.push(n));
      // An output dir with only the CSV (copied from CI, or the original framework's): show its tests.
      if (!tests.length && !opts.testIds) tests.push(...csvTests);
      const fromCsv = new Map(csvTests.map((t) => [t.testId, t]));
      for (const t of tests) if (!t.perf.length && t.logDir) t.perf = fromCsv.get(t.testId)?.perf ?? [];
    } catch (err) {
      notes.push((err as Error).message);
    }
  }
  // A run's report reads only its own tests' history lines, by the index (their trends; the whole
  // dir's trends are `disagg report`'s): its cost follows the run, not a year of history.
  // Each test's most recent runs only: the trends show no more (a year of history is 100k+ lines).
  const history = await readHistory(
    outputPath,
    undefined,
    opts.run ? [...opts.run.keys()] : opts.testIds,
    TREND_RUNS,
  );
  if (history.notice) notes.push(history.notice);
  return {
    title: opts.title ?? 'vitest-disagg report',
    generatedAt: new Date().toISOString(),
    source: path.resolve(outputPath),
    tests,
    history: history.entries,
    notes,
  };
}
