// The report's view of `$OUTPUT_PATH/history.jsonl` (name and record shape: src/results/history.ts):
// a test's key metrics and gate verdicts per run. Absent file = no trends. Lines that do not fit are
// counted, never fatal: the report must open even when the history is half-written.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HistoryIndex } from '../results/history-index.js';
import {
  HISTORY_FILE_NAME,
  historyFieldsOf,
  parseHistoryLenient,
  type HistoryRecord,
} from '../results/history.js';
import type { HistoryEntry } from './model.js';

/** The metrics a trend shows when no gate names others. */
const KEY_METRICS = ['output_throughput', 'median_ttft_ms', 'median_tpot_ms'];

/** `metric` for a run of one concurrency, else `metric @<concurrency>`: one trend per line. */
function trendKey(metric: string, concurrency: string, single: boolean): string {
  return single ? metric : `${metric} @${concurrency}`;
}

/** One history record as the report shows it: key metrics and gated metrics, with the gate verdicts. */
export function historyEntry(r: HistoryRecord): HistoryEntry {
  const cons = Object.keys(r.metrics);
  const single = cons.length === 1;
  const verdicts = (r.verdicts ?? []).filter((v) => v.passed !== null);
  const wanted = new Set([...KEY_METRICS, ...verdicts.map((v) => v.metric)]);
  const metrics: Record<string, number> = {};
  for (const c of cons)
    for (const [m, v] of Object.entries(r.metrics[c] ?? {}))
      if (wanted.has(m)) metrics[trendKey(m, c, single)] = v;
  return {
    runId: r.runId ?? r.jobId ?? r.endTime,
    at: r.endTime,
    testId: r.test,
    metrics,
    gates: verdicts.map((v) => ({
      metric: v.concurrency === null ? v.metric : trendKey(v.metric, String(v.concurrency), single),
      passed: v.passed === true,
      message: v.message,
    })),
  };
}

/**
 * The history's entries; with `testIds`, only those tests' lines, read by the history's index (a run's
 * report shows its own tests' trends, not a year of every test's).
 */
export async function readHistory(
  outputPath: string,
  name = HISTORY_FILE_NAME,
  testIds?: readonly string[],
): Promise<{ entries: HistoryEntry[]; skipped: number; file: string }> {
  const file = path.join(outputPath, name);
  if (testIds) {
    const index = await HistoryIndex.open(file, historyFieldsOf);
    const lines = testIds.flatMap((test) => index.find({ test })).sort((a, b) => a.offset - b.offset);
    const { records, skipped } = parseHistoryLenient((await index.read(lines)).join('\n'), file);
    return { entries: records.map(historyEntry), skipped, file };
  }
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { records, skipped } = parseHistoryLenient(text, file);
  return { entries: records.map(historyEntry), skipped, file };
}
