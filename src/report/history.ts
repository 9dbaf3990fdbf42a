// The report's view of `$OUTPUT_PATH/history.jsonl` (name and record shape: src/results/history.ts):
// a test's key metrics and gate verdicts per run. Absent file = no trends. Lines that do not fit are
// skipped and named in a note, never fatal: the report must open even when the history is half-written.
import path from 'node:path';
import { HISTORY_FILE_NAME, historyNotice, readHistoryFile, type HistoryRecord } from '../results/history.js';
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

/** The history's trend entries; `notice` names the damaged lines that were left out (none: undefined). */
export async function readHistory(
  outputPath: string,
  name = HISTORY_FILE_NAME,
): Promise<{ entries: HistoryEntry[]; notice?: string; file: string }> {
  const read = await readHistoryFile(path.join(outputPath, name));
  return { entries: read.records.map(historyEntry), notice: historyNotice(read), file: read.file };
}
