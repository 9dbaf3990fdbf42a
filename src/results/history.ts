// The run history of an output dir: `$OUTPUT_PATH/history.jsonl`, one JSON object per line, one line
// per test run. The history gate and `disagg compare <output dir>` read it; this module is the one
// place that spells its name and record shape.
import path from 'node:path';

export const HISTORY_FILE_NAME = 'history.jsonl';

/** One test run. */
export interface HistoryRecord {
  /** Test id, e.g. `disagg_perf_deepseek-r1-fp4_1k1k_…` (the results JSON's `testId`). */
  test: string;
  /** When the run ended, ISO 8601 (`2026-11-29T04:17:51.000Z`). Baselines are ordered by it. */
  endTime: string;
  /** Whether the test passed; only passed runs form a baseline. */
  passed: boolean;
  /** Concurrency (as a string key) → metric (a `disagg parse bench --json` key) → value. */
  metrics: Record<string, Record<string, number>>;
  jobId?: string;
}

export function historyPath(outputPath: string): string {
  return path.join(outputPath, HISTORY_FILE_NAME);
}

/** One line of history.jsonl, newline included. */
export function formatHistoryRecord(record: HistoryRecord): string {
  return `${JSON.stringify(record)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function problem(file: string, line: number, what: string): Error {
  return new Error(
    `${file}:${line}: ${what}; each line must be {"test": string, "endTime": ISO time, "passed": boolean, ` +
      `"metrics": {"<concurrency>": {"<metric>": number}}}`,
  );
}

/** Parse history.jsonl text; a bad line is an error naming the file and line. Blank lines are skipped. */
export function parseHistory(text: string, file: string): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw problem(file, line, `not JSON (${(err as Error).message})`);
    }
    if (!isObject(value)) throw problem(file, line, 'not an object');
    const { test, endTime, passed, metrics, jobId } = value;
    if (typeof test !== 'string' || test === '') throw problem(file, line, '"test" is missing');
    if (typeof endTime !== 'string' || Number.isNaN(Date.parse(endTime)))
      throw problem(file, line, `"endTime" ${JSON.stringify(endTime)} is not a time`);
    if (typeof passed !== 'boolean') throw problem(file, line, '"passed" is not true or false');
    if (!isObject(metrics)) throw problem(file, line, '"metrics" is not an object');
    const out: Record<string, Record<string, number>> = {};
    for (const [concurrency, values] of Object.entries(metrics)) {
      if (!/^\d+$/.test(concurrency))
        throw problem(file, line, `concurrency "${concurrency}" is not a number`);
      if (!isObject(values)) throw problem(file, line, `"metrics.${concurrency}" is not an object`);
      out[concurrency] = {};
      for (const [metric, v] of Object.entries(values)) {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw problem(file, line, `"metrics.${concurrency}.${metric}" is not a number`);
        out[concurrency][metric] = v;
      }
    }
    records.push({
      test,
      endTime,
      passed,
      metrics: out,
      ...(typeof jobId === 'string' ? { jobId } : {}),
    });
  });
  return records;
}
