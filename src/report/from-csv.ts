// Report tests from a perf CSV: ours or the original framework's (same 17 columns). A row is one
// metric of one concurrency: `perf_case_name` = `test_<method>[<test>]_con:<N>`, `metric_type` the
// metric name (`SERVER_MEDIAN_TTFT`, the original's `DISAGG_SERVER_TTFT` = median), `perf_metric` its value.
import { benchKeyForMetricName } from '../parsers/metric-names.js';
import { perfCsvNotice, readPerfCsv, warnCsvNotice, type CsvNotice } from '../results/csv.js';
import type { PerfPoint, ReportTest } from './model.js';
import { outputLengthOf } from './pareto.js';
import { workloadOfTestId } from './workload.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';

const CASE_RE = /^test_\w+\[(.+)\]$/;

/**
 * GPUs when the test id spells the whole deployment (`…_ctx1_dep4_…_gen1_dep32_…`: 1×4 + 1×32); the
 * original's ids name only the gen side (`tep:8`), so they have none.
 */
export function gpusOfTestId(testId: string): number | undefined {
  const ctx = /(?:^|_)ctx(\d+)_(?:tep|dep|tp)(\d+)(?:_|$)/.exec(testId);
  const gen = /(?:^|_)gen(\d+)_(?:tep|dep|tp)(\d+)(?:_|$)/.exec(testId);
  if (!ctx || !gen) return undefined;
  return Number(ctx[1]) * Number(ctx[2]) + Number(gen[1]) * Number(gen[2]);
}

/**
 * The original's CSV holds only median TTFT and E2EL: the Pareto view estimates the per-user rate
 * (1000 ÷ TPOT, TPOT ≈ (E2EL − TTFT) ÷ (OSL − 1)) and the output throughput (every user busy:
 * concurrency × OSL ÷ E2EL) under `est_` keys, which no table shows as measured.
 */
function addEstimates(p: PerfPoint, osl: number | undefined): void {
  const { median_ttft_ms: ttft, median_e2el_ms: e2el, output_throughput: tput } = p.metrics;
  if (tput !== undefined || osl === undefined || osl < 2 || ttft === undefined || e2el === undefined) return;
  if (!(e2el > ttft) || !(e2el > 0)) return;
  p.metrics.est_median_tpot_ms = (e2el - ttft) / (osl - 1);
  p.metrics.est_output_throughput = (p.concurrency * osl * 1000) / e2el;
}

/**
 * Tests of a perf CSV's text, in first-seen order. `file` only names the source in errors. Rows that
 * cannot be read (torn by a crash, garbage) are left out, said once through `onNotice`.
 */
export function testsFromCsvText(
  text: string,
  file: string,
  onNotice: CsvNotice = warnCsvNotice,
): ReportTest[] {
  const tests = new Map<string, { test: ReportTest; points: Map<number, PerfPoint> }>();
  const { rows, skipped } = readPerfCsv(text, file);
  for (const row of rows) {
    const m = CASE_RE.exec(row.test);
    if (!m) {
      // A garbage row is left out like a torn one (one notice with the others), never fatal.
      skipped.push({
        line: row.line,
        reason:
          `perf_case_name must look like test_<method>[<test>]_con:<N>, ` +
          `got ${JSON.stringify(`${row.test}_con:${row.concurrency}`)}`,
      });
      continue;
    }
    const testId = m[1] ?? row.test;
    const concurrency = row.concurrency;
    let entry = tests.get(testId);
    if (!entry) {
      const kind = /^(\w+?)_(perf|stress|accuracy)_/.exec(testId);
      entry = {
        test: {
          testId,
          testType: kind?.[1],
          category: kind?.[2],
          status: 'unknown',
          perf: [],
          incomplete: [],
          accuracy: [],
        },
        points: new Map(),
      };
      tests.set(testId, entry);
    }
    let point = entry.points.get(concurrency);
    if (!point) {
      point = { concurrency, completed: true, metrics: {} };
      entry.points.set(concurrency, point);
    }
    if (row.value !== null) point.metrics[benchKeyForMetricName(row.metric) ?? row.metric] = row.value;
    const t = entry.test;
    // Every row of one job carries that job's start and end: the run time is the row's own job's
    // (the last one in the file, like its metrics), never the span of all runs of the test in the file.
    if (row.startTime !== null && row.endTime !== null) {
      t.submittedAt = new Date(row.startTime).toISOString();
      t.endedAt = new Date(row.endTime).toISOString();
      t.runMs = Math.max(0, row.endTime - row.startTime);
    }
    if (row.state !== 'valid')
      t.failure = `CSV state ${row.state || '(empty)'} at concurrency ${concurrency}`;
  }
  const notice = perfCsvNotice(
    file,
    skipped.sort((a, b) => a.line - b.line),
  );
  if (notice) onNotice(notice);
  return [...tests.values()].map(({ test, points }) => {
    test.perf = [...points.values()].sort((a, b) => a.concurrency - b.concurrency);
    test.workload = workloadOfTestId(test.testId);
    test.gpus = gpusOfTestId(test.testId);
    const osl = outputLengthOf(test.workload);
    for (const p of test.perf) addEstimates(p, osl);
    return test;
  });
}

export async function testsFromCsv(file: string, onNotice: CsvNotice = warnCsvNotice): Promise<ReportTest[]> {
  const bytes = await readRegularFile(file, {
    maxBytes: MAX_DATA_FILE_BYTES,
    tooLargeHint: 'split it (rows of older runs into another file) or report from the output dir instead',
  });
  return testsFromCsvText(bytes.toString('utf8'), file, onNotice);
}
