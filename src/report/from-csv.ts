// Report tests from a perf CSV: ours or the original framework's (same 17 columns). A row is one
// metric of one concurrency: `perf_case_name` = `test_<method>[<test>]_con:<N>`, `metric_type` the
// metric name (`SERVER_MEDIAN_TTFT`, the original's `DISAGG_SERVER_TTFT` = median), `perf_metric` its value.
import { readFile } from 'node:fs/promises';
import Papa from 'papaparse';
import { benchKeyForMetricName } from '../parsers/metric-names.js';
import { PERF_CSV_COLUMNS } from '../results/perf-rows.js';
import type { PerfPoint, ReportTest } from './model.js';
import { ParseError } from '../errors.js';

const CASE_RE = /^test_\w+\[(.+)\]_con:(\d+)$/;

function utcMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  // The CSV's timestamps carry no zone; the original writes UTC.
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isFinite(t) ? t : undefined;
}

/** Tests of a perf CSV's text, in first-seen order. `file` only names the source in errors. */
export function testsFromCsvText(text: string, file: string): ReportTest[] {
  const parsed = Papa.parse<Record<string, string>>(text.replace(/^\uFEFF/, ''), {
    header: true,
    skipEmptyLines: true,
  });
  const fields = parsed.meta.fields ?? [];
  const missing = ['perf_case_name', 'perf_metric', 'metric_type'].filter((c) => !fields.includes(c));
  if (missing.length) {
    throw new ParseError(
      `${file}: not a perf CSV: column(s) ${missing.join(', ')} missing (expected the 17 columns ` +
        `${PERF_CSV_COLUMNS.join(', ')})`,
    );
  }
  const tests = new Map<string, { test: ReportTest; points: Map<number, PerfPoint> }>();
  parsed.data.forEach((row, i) => {
    const name = row.perf_case_name || row.test_name || '';
    const m = CASE_RE.exec(name.trim());
    const value = Number(row.perf_metric);
    if (!m || row.perf_metric === '' || !Number.isFinite(value)) {
      throw new ParseError(
        `${file}:${i + 2}: cannot read row: perf_case_name must look like test_<method>[<test>]_con:<N> ` +
          `and perf_metric be a number, got ${JSON.stringify(name)} and ${JSON.stringify(row.perf_metric)}`,
      );
    }
    const testId = m[1];
    const concurrency = Number(m[2]);
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
    point.metrics[benchKeyForMetricName(row.metric_type) ?? row.metric_type] = value;
    const start = utcMs(row.start_timestamp);
    const end = utcMs(row.end_timestamp);
    const t = entry.test;
    if (start !== undefined && (!t.submittedAt || start < Date.parse(t.submittedAt)))
      t.submittedAt = new Date(start).toISOString();
    if (end !== undefined && (!t.endedAt || end > Date.parse(t.endedAt)))
      t.endedAt = new Date(end).toISOString();
    if (row.state && row.state !== 'valid')
      t.failure = `CSV state ${row.state} at concurrency ${concurrency}`;
  });
  return [...tests.values()].map(({ test, points }) => {
    test.perf = [...points.values()].sort((a, b) => a.concurrency - b.concurrency);
    if (test.submittedAt && test.endedAt)
      test.runMs = Date.parse(test.endedAt) - Date.parse(test.submittedAt);
    return test;
  });
}

export async function testsFromCsv(file: string): Promise<ReportTest[]> {
  return testsFromCsvText(await readFile(file, 'utf8'), file);
}
