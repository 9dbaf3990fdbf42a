// Report tests from a perf CSV: ours or the original framework's (same 17 columns). A row is one
// metric of one concurrency: `perf_case_name` = `test_<method>[<test>]_con:<N>`, `metric_type` the
// metric name (`SERVER_MEDIAN_TTFT`, the original's `DISAGG_SERVER_TTFT` = median), `perf_metric` its value.
import { benchKeyForMetricName } from '../parsers/metric-names.js';
import { readPerfCsvText } from '../results/csv.js';
import type { PerfPoint, ReportTest } from './model.js';
import { ParseError } from '../errors.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';

const CASE_RE = /^test_\w+\[(.+)\]$/;

/** Tests of a perf CSV's text, in first-seen order. `file` only names the source in errors. */
export function testsFromCsvText(text: string, file: string): ReportTest[] {
  const tests = new Map<string, { test: ReportTest; points: Map<number, PerfPoint> }>();
  for (const row of readPerfCsvText(text, file)) {
    const m = CASE_RE.exec(row.test);
    if (!m) {
      throw new ParseError(
        `${file}:${row.line}: cannot read row: perf_case_name must look like test_<method>[<test>]_con:<N>, ` +
          `got ${JSON.stringify(`${row.test}_con:${row.concurrency}`)}`,
      );
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
  return [...tests.values()].map(({ test, points }) => {
    test.perf = [...points.values()].sort((a, b) => a.concurrency - b.concurrency);
    return test;
  });
}

export async function testsFromCsv(file: string): Promise<ReportTest[]> {
  const bytes = await readRegularFile(file, {
    maxBytes: MAX_DATA_FILE_BYTES,
    tooLargeHint: 'split it (rows of older runs into another file) or report from the output dir instead',
  });
  return testsFromCsvText(bytes.toString('utf8'), file);
}
