// A report test from the parsed contents of one job dir (results file, the ledger entry, config GPUs).
import type { LedgerJob } from '../broker/ledger.js';
import { ERROR_SUFFIX } from '../broker/job-dirs.js';
import { TERMINAL_STATES, type JobState } from '../types.js';
import type { AccuracyPoint, PerfPoint, ReportTest, TestStatus } from './model.js';
import type { ResultsFile } from './results-file.js';

export interface TestSources {
  testId: string;
  logDir?: string;
  results?: ResultsFile;
  ledger?: LedgerJob;
  gpus?: number;
  /** Model · ISL · OSL of the test's config (the Pareto chart it belongs to). */
  workload?: string;
}

function ms(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) && d >= 0 ? d : undefined;
}

export function perfPoints(results: ResultsFile | undefined): { perf: PerfPoint[]; incomplete: number[] } {
  const blocks = (results?.perf?.blocks ?? []).filter((b) => !b.warmup && typeof b.concurrency === 'number');
  const perf = blocks
    .map((b) => ({ concurrency: b.concurrency as number, completed: b.completed, metrics: b.metrics }))
    .sort((a, b) => a.concurrency - b.concurrency);
  const incomplete = [
    ...perf.filter((p) => !p.completed).map((p) => p.concurrency),
    ...(results?.perf?.missing ?? []),
  ];
  return { perf, incomplete };
}

export function accuracyPoints(results: ResultsFile | undefined): AccuracyPoint[] {
  return (results?.accuracy?.verdicts ?? []).map((v) => ({
    dataset: v.dataset ?? '?',
    filter: v.filter,
    metric: v.metric,
    run: v.run,
    observed: v.observed,
    expected: v.expected,
    threshold: v.threshold ?? Number.NaN,
    theta: v.theta,
    n: v.n,
    alpha: v.alpha,
    beta: v.beta,
    thresholdType: v.thresholdType,
    higherIsBetter: v.higherIsBetter,
    passed: v.passed === true,
    message: v.message ?? '',
  }));
}

/** Why a test failed, from what is on disk, when the run did not record it. */
function derivedFailure(t: ReportTest, ledger: LedgerJob | undefined): string | undefined {
  const reasons: string[] = [];
  if (t.jobState && t.jobState !== 'COMPLETED' && TERMINAL_STATES.has(t.jobState as JobState)) {
    const extra = [ledger?.exitCode && `exit code ${ledger.exitCode}`, ledger?.reason].filter(Boolean);
    reasons.push(`job ${t.jobId ?? '?'} ended ${t.jobState}${extra.length ? ` (${extra.join(', ')})` : ''}`);
  }
  if (t.incomplete.length) reasons.push(`concurrency ${t.incomplete.join(', ')} did not finish`);
  const failedRequests = t.perf.reduce((n, p) => n + (p.metrics.failed_requests ?? 0), 0);
  if (failedRequests > 0) reasons.push(`${failedRequests} request(s) failed`);
  for (const a of t.accuracy) if (!a.passed) reasons.push(a.message.split('. ')[0]);
  return reasons.length ? reasons.join('; ') : undefined;
}

function derivedStatus(t: ReportTest, failure: string | undefined): TestStatus {
  if (t.logDir?.endsWith(ERROR_SUFFIX) || failure) return 'failed';
  if (t.jobState === 'COMPLETED' && (t.perf.length || t.accuracy.length)) return 'passed';
  return 'unknown';
}

export function testFromSources(src: TestSources): ReportTest {
  const { results, ledger } = src;
  const run = results?.run ?? {};
  const { perf, incomplete } = perfPoints(results);
  const submittedAt = run.submittedAt ?? ledger?.submittedAt;
  const endedAt = run.endedAt ?? ledger?.endedAt;
  const test: ReportTest = {
    testId: src.testId,
    category: /^[^_]+_([^_]+)_/.exec(src.testId)?.[1],
    testType: /^([^_]+)_/.exec(src.testId)?.[1],
    status: 'unknown',
    jobId: results?.jobId ?? ledger?.jobId,
    jobState: run.jobState ?? ledger?.state,
    exitCode: ledger?.exitCode,
    submittedAt,
    runningAt: run.runningAt,
    endedAt,
    queueMs: run.queueMs ?? ms(submittedAt, run.runningAt),
    runMs: run.runMs ?? ms(run.runningAt ?? submittedAt, endedAt),
    nodes: run.nodes,
    skipReason: run.skipReason,
    logDir: src.logDir,
    gpus: run.gpus ?? src.gpus,
    perf,
    ...(results?.perf?.slo ? { slo: results.perf.slo } : {}),
    ...(src.workload ? { workload: src.workload } : {}),
    incomplete,
    accuracy: accuracyPoints(results),
  };
  const verdicts = [...(results?.gates ?? []), ...(results?.deltas ?? [])];
  if (verdicts.length)
    test.perfVerdicts = verdicts.map((v) => ({ kind: v.kind, passed: v.passed, message: v.message }));
  test.failure = run.failure ?? derivedFailure(test, ledger);
  test.status = run.status ?? derivedStatus(test, test.failure);
  if (test.status === 'passed') test.failure = undefined;
  return test;
}
