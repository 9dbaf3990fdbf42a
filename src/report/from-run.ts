// The end of a Vitest run: record what only the run knows (status, failure message, queue and run
// time from the broker's events, GPUs) in each test's results file, then write the run's report from
// the output dir, so `disagg report <output dir>` later shows the same page.
import path from 'node:path';
import { parseRunDir } from '../broker/job-dirs.js';
import { mergeResultsJson } from '../results/results-json.js';
import type { DisaggMeta } from '../types.js';
import { REPORT_NAME, writeReport } from './build.js';
import { gpusOfJobDir, loadOutputDir } from './from-output.js';
import type { TestStatus } from './model.js';
import { RUN_KEY, type RunRecord } from './results-file.js';

export interface RunTest {
  meta: Partial<DisaggMeta>;
  /** Vitest's result state. */
  state: string;
  /** Error messages of a failed test. */
  errors: string[];
  /** The reason a skipped test gave. */
  skipNote?: string;
  /** ms since epoch, from the broker's events. */
  timeline?: { submittedAt?: number; runningAt?: number; endedAt?: number; nodes?: string };
}

const MAX_FAILURE_CHARS = 1200;

function status(state: string): TestStatus {
  if (state === 'passed' || state === 'failed' || state === 'skipped') return state;
  return 'unknown';
}

/** The first lines of the first error, ANSI colours removed: enough to say why, short enough for a table. */
export function failureText(errors: readonly string[]): string | undefined {
  // eslint-disable-next-line no-control-regex
  const first = errors[0]?.replace(/\u001b\[[0-9;]*m/g, '').trim();
  if (!first) return undefined;
  // Vitest's own assertion suffix says nothing to a reader of the report.
  const lines = first
    .replace(/: expected .+ \/\/ Object\.is equality$/m, '')
    .split('\n')
    .slice(0, 6)
    .join('\n');
  return lines.length > MAX_FAILURE_CHARS ? `${lines.slice(0, MAX_FAILURE_CHARS)}…` : lines;
}

/** The output dir of a run, from where its tests' logs are (when the options were not at hand). */
export function outputPathOf(tests: readonly RunTest[]): string | undefined {
  for (const t of tests) {
    const fromDir = t.meta.logDir ? parseRunDir(t.meta.logDir)?.outputPath : undefined;
    if (fromDir) return fromDir;
    if (t.meta.perf?.csv) return path.dirname(t.meta.perf.csv);
  }
  return undefined;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function runRecord(t: RunTest, gpus: number | undefined): RunRecord {
  const tl = t.timeline ?? {};
  const started = tl.runningAt ?? tl.endedAt;
  return {
    status: status(t.state),
    failure: t.state === 'failed' ? failureText(t.errors) : undefined,
    skipReason: t.state === 'skipped' ? t.skipNote : undefined,
    jobState: t.meta.jobState,
    submittedAt: iso(tl.submittedAt),
    runningAt: iso(tl.runningAt),
    endedAt: iso(tl.endedAt),
    queueMs: tl.submittedAt !== undefined && started !== undefined ? started - tl.submittedAt : undefined,
    runMs: tl.runningAt !== undefined && tl.endedAt !== undefined ? tl.endedAt - tl.runningAt : undefined,
    nodes: tl.nodes,
    gpus,
  };
}

/**
 * Record the run in each test's results file and write `<outputPath>/report.html`: every test of the
 * output dir as its latest logs left it, this run's tests marked (`inRun`). Returns its path.
 */
export async function writeRunReport(outputPath: string, tests: readonly RunTest[]): Promise<string> {
  const records = new Map<string, RunRecord>();
  for (const t of tests) {
    if (!t.meta.testId) continue;
    const gpus = t.meta.logDir ? await gpusOfJobDir(t.meta.logDir) : undefined;
    const record = runRecord(t, gpus);
    records.set(t.meta.testId, record);
    if (t.meta.logDir) await mergeResultsJson(t.meta.logDir, { [RUN_KEY]: record });
  }
  const run = new Map<string, string | undefined>();
  for (const t of tests) if (t.meta.testId) run.set(t.meta.testId, t.meta.logDir);
  // Every test of the output dir at its latest state, this run's marked: a partial run hides no other.
  const data = await loadOutputDir(outputPath, { run });
  // A test that failed or was skipped before it had a job dir: only the run knows about it.
  for (const test of data.tests) {
    const record = records.get(test.testId);
    if (!record || test.logDir) continue;
    Object.assign(test, { status: record.status ?? 'unknown', failure: record.failure, jobId: undefined });
    test.skipReason = record.skipReason;
    Object.assign(test, {
      jobState: undefined,
      submittedAt: undefined,
      endedAt: undefined,
      runMs: undefined,
    });
  }
  return writeReport(data, path.join(outputPath, REPORT_NAME));
}
