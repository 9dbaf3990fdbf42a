// `$OUTPUT_PATH/history.jsonl`: one JSON object per line, a test's key metrics and gate verdicts in
// one run (written by the perf gates). Absent file = no trends. Lines that do not fit are counted,
// never fatal: the report must open even when the history is half-written.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEntry } from './model.js';

export const HISTORY_NAME = 'history.jsonl';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** One history line, or undefined when it lacks a test id, a run and numeric metrics. */
export function historyEntry(value: unknown): HistoryEntry | undefined {
  const o = record(value);
  if (!o) return undefined;
  const testId = o.testId ?? o.test;
  const runId = o.runId ?? o.run ?? o.at;
  const at = o.at ?? o.time ?? o.timestamp ?? o.runId;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(record(o.metrics) ?? {})) if (typeof v === 'number') metrics[k] = v;
  if (typeof testId !== 'string' || typeof runId !== 'string' || typeof at !== 'string') return undefined;
  const gates = (Array.isArray(o.gates) ? o.gates : [])
    .map(record)
    .filter((g): g is Record<string, unknown> => !!g && typeof g.metric === 'string')
    .map((g) => ({
      metric: g.metric as string,
      passed: g.passed === true || g.verdict === 'pass' || g.verdict === 'passed',
      message: typeof g.message === 'string' ? g.message : undefined,
    }));
  return { runId, at, testId, metrics, gates };
}

export async function readHistory(
  outputPath: string,
  name = HISTORY_NAME,
): Promise<{ entries: HistoryEntry[]; skipped: number; file: string }> {
  const file = path.join(outputPath, name);
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const entries: HistoryEntry[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: HistoryEntry | undefined;
    try {
      entry = historyEntry(JSON.parse(line));
    } catch {
      entry = undefined;
    }
    if (entry) entries.push(entry);
    else skipped++;
  }
  return { entries, skipped, file };
}
