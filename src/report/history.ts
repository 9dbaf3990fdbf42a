// The report's view of `$OUTPUT_PATH/history.jsonl` (name and record shape: src/results/history.ts):
// a test's key metrics and gate verdicts per run. Absent file = no trends. Lines that do not fit are
// skipped and named in a note, never fatal: the report must open even when the history is half-written.
import path from 'node:path';
import { HistoryIndex } from '../results/history-index.js';
import {
  HISTORY_FILE_NAME,
  historyFieldsOf,
  historyNotice,
  parseHistoryLenient,
  readHistoryFile,
  type HistoryRecord,
} from '../results/history.js';
import type { HistoryEntry } from './model.js';

/** The metrics a trend shows besides the gated ones (and goodput, when the run measured it). */
export const KEY_METRICS = [
  'output_throughput',
  'median_ttft_ms',
  'median_tpot_ms',
  'goodput',
  'slo_attainment',
] as const;

/** One history record as the report shows it: key and gated metrics per concurrency, with the gate verdicts. */
export function historyEntry(r: HistoryRecord): HistoryEntry {
  const verdicts = (r.verdicts ?? []).filter((v) => v.passed !== null);
  const wanted = new Set<string>([...KEY_METRICS, ...verdicts.map((v) => v.metric)]);
  const points: HistoryEntry['points'] = [];
  for (const c of Object.keys(r.metrics).sort((a, b) => Number(a) - Number(b))) {
    const concurrency = Number(c);
    for (const [metric, value] of Object.entries(r.metrics[c] ?? {})) {
      if (!wanted.has(metric)) continue;
      // A gate without a concurrency judged every one of them.
      const mine = verdicts.filter(
        (v) => v.metric === metric && (v.concurrency === null || v.concurrency === concurrency),
      );
      const gate = !mine.length ? 'no gate' : mine.every((v) => v.passed === true) ? 'passed' : 'failed';
      points.push({ metric, concurrency, value, gate });
    }
  }
  return {
    runId: r.runId ?? r.jobId ?? r.endTime,
    at: r.endTime,
    testId: r.test,
    passed: r.passed,
    points,
    gates: verdicts.map((v) => ({
      metric: v.metric,
      concurrency: v.concurrency,
      passed: v.passed === true,
      message: v.message,
    })),
  };
}

/** Runs a trend chart shows at most: the most recent ones (history.jsonl order is run order). */
export const TREND_RUNS = 30;

/**
 * The history's trend entries; with `testIds`, only those tests' lines (a run's report shows its own
 * tests' trends, not a year of every test's); with `lastRuns`, only each test's most recent lines. Both
 * are read through the history's index: one pass over it, then only the lines wanted, in file order.
 * `notice` names the damaged lines that were left out (none: undefined).
 */
export async function readHistory(
  outputPath: string,
  name = HISTORY_FILE_NAME,
  testIds?: readonly string[],
  lastRuns?: number,
): Promise<{ entries: HistoryEntry[]; notice?: string; file: string }> {
  const file = path.join(outputPath, name);
  if (testIds || lastRuns !== undefined) {
    const index = await HistoryIndex.open(file, historyFieldsOf);
    const wanted = testIds ? new Set(testIds) : undefined;
    const lines =
      lastRuns !== undefined
        ? index.lastPerTest(lastRuns, wanted)
        : index.find({}).filter((l) => l.test !== undefined && (!wanted || wanted.has(l.test)));
    const { records } = parseHistoryLenient((await index.read(lines)).join('\n'), file);
    // Damaged lines are known to the index by their line number.
    return {
      entries: records.map(historyEntry),
      notice: historyNotice({ file, skipped: index.skipped() }),
      file,
    };
  }
  const read = await readHistoryFile(file);
  return { entries: read.records.map(historyEntry), notice: historyNotice(read), file };
}
