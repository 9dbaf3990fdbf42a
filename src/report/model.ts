// The report's data model: what `report.html` shows, built from an output dir, a perf CSV or a
// Vitest run, and nothing else (rendering reads only this).

export type TestStatus = 'passed' | 'failed' | 'skipped' | 'unknown';

/** One concurrency of a benchmark: the parser's metric keys (`median_ttft_ms`, `output_throughput`, …). */
export interface PerfPoint {
  concurrency: number;
  /** False when the benchmark announced this concurrency but did not finish it. */
  completed: boolean;
  metrics: Record<string, number>;
}

/** One accuracy verdict: the observed value against its threshold, with the test's parameters. */
export interface AccuracyPoint {
  dataset: string;
  filter?: string;
  metric?: string;
  /** 1-based run of the accuracy log (several runs → several points). */
  run?: number;
  observed?: number;
  expected?: number;
  threshold: number;
  theta?: number;
  n?: number;
  alpha?: number;
  beta?: number;
  thresholdType?: string;
  higherIsBetter?: boolean;
  passed: boolean;
  message: string;
}

export interface ReportTest {
  testId: string;
  category?: string;
  testType?: string;
  status: TestStatus;
  /** A word beside the status, e.g. `no gate` for a history run that passed without gates. */
  note?: string;
  jobId?: string;
  /** SLURM state (COMPLETED, FAILED, TIMEOUT, …). */
  jobState?: string;
  exitCode?: string;
  submittedAt?: string;
  runningAt?: string;
  endedAt?: string;
  /** Time from submission to RUNNING (ms), when the broker saw it. */
  queueMs?: number;
  /** Time from RUNNING (or submission, when RUNNING was not seen) to the end (ms). */
  runMs?: number;
  nodes?: string;
  /** Why the test failed (first lines of the error, or the state and reason). */
  failure?: string;
  /** Why the test was skipped (e.g. its GPU type is not supported). */
  skipReason?: string;
  /** The test's log dir as it is now (the `_ERROR` dir after a failure). */
  logDir?: string;
  /** GPUs the deployment uses (ctx and gen servers × their world size), for throughput per GPU. */
  gpus?: number;
  perf: PerfPoint[];
  /** The latency objectives goodput was judged against, when the test had some. */
  slo?: { ttft_ms?: number; tpot_ms?: number; e2el_ms?: number };
  /** Model, input and output length: which tests share a Pareto chart (`<model> · ISL 1024 · OSL 1024`). */
  workload?: string;
  /** Concurrencies announced with no finished result. */
  incomplete: number[];
  accuracy: AccuracyPoint[];
  /**
   * The perf gate checks, or without gates every change against history (`kind: 'delta'`), in words:
   * the full detail the console gives one line of.
   */
  perfVerdicts?: Array<{ kind: string; passed: boolean | null; message: string }>;
  /**
   * Set by the report written at the end of a run: true for that run's tests, false for the output
   * dir's other tests (shown as their latest run left them); unset in a report of results on disk.
   */
  inRun?: boolean;
}

/** A gate's verdict on one trend point; `no gate` when no gate judged that metric in that run. */
export type TrendVerdict = 'passed' | 'failed' | 'no gate';

/** One metric of one concurrency in one earlier run (`concurrency` null: the run had a single one). */
export interface TrendPoint {
  metric: string;
  concurrency: number | null;
  value: number;
  gate: TrendVerdict;
}

/** One line of `$OUTPUT_PATH/history.jsonl`: a test's key metrics and gate verdicts in one earlier run. */
export interface HistoryEntry {
  runId: string;
  /** ISO time of the run. */
  at: string;
  testId: string;
  /** Whether the run passed (with or without gates). */
  passed: boolean;
  points: TrendPoint[];
  gates: Array<{ metric: string; concurrency: number | null; passed: boolean; message?: string }>;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  /** What the report was built from (an output dir, a CSV file). */
  source: string;
  tests: ReportTest[];
  history: HistoryEntry[];
  /** Problems met while reading (unreadable files): shown on the page, never fatal. */
  notes: string[];
}

/** Output throughput per GPU (tokens/s/GPU), when the GPU count is known. */
export function throughputPerGpu(p: PerfPoint, gpus: number | undefined): number | undefined {
  const tput = p.metrics.output_throughput;
  return tput !== undefined && gpus ? tput / gpus : undefined;
}

/**
 * Tokens/s per user: 1000 ÷ median TPOT (the decode rate a user sees, InferenceMAX's x axis), else total
 * output throughput ÷ concurrency.
 */
export function throughputPerUser(p: PerfPoint): number | undefined {
  const tpot = p.metrics.median_tpot_ms;
  if (tpot) return 1000 / tpot;
  const tput = p.metrics.output_throughput;
  return tput !== undefined && p.concurrency > 0 ? tput / p.concurrency : undefined;
}

/** Counts by status, for the header. */
export function statusCounts(tests: readonly ReportTest[]): Record<TestStatus, number> {
  const counts: Record<TestStatus, number> = { passed: 0, failed: 0, skipped: 0, unknown: 0 };
  for (const t of tests) counts[t.status]++;
  return counts;
}
