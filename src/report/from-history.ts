// Report data from a history file alone (`disagg report history.jsonl`): one test per test id, its
// status from the latest run (`no gate` when nothing gated it), and the trends.
import path from 'node:path';
import { readHistory } from './history.js';
import type { ReportData, ReportTest } from './model.js';
import { ParseError } from '../errors.js';

export async function loadHistoryFile(file: string): Promise<ReportData> {
  const { entries, notice } = await readHistory(path.dirname(file), path.basename(file));
  if (!entries.length) {
    throw new ParseError(
      `${file}: no history records (each line: {"test","endTime","passed","metrics":{"<concurrency>":{…}},"verdicts":[…]})` +
        (notice ? `; ${notice}` : ''),
    );
  }
  const latest = new Map<string, (typeof entries)[number]>();
  for (const e of entries) {
    const seen = latest.get(e.testId);
    if (!seen || Date.parse(e.at) >= Date.parse(seen.at)) latest.set(e.testId, e);
  }
  const tests: ReportTest[] = [...latest.values()].map((e) => {
    const failed = e.gates.filter((g) => !g.passed);
    return {
      testId: e.testId,
      // The record says whether the run passed; a run without gates passed on its own checks.
      status: e.passed && !failed.length ? 'passed' : 'failed',
      ...(e.gates.length ? {} : { note: 'no gate' }),
      failure: failed.length
        ? failed.map((g) => g.message ?? `gate ${g.metric} failed`).join('; ')
        : e.passed
          ? undefined
          : 'the run failed (no gate failed: see its results)',
      perf: [],
      incomplete: [],
      accuracy: [],
    };
  });
  return {
    title: 'vitest-disagg history',
    generatedAt: new Date().toISOString(),
    source: path.resolve(file),
    tests: tests.sort((a, b) => a.testId.localeCompare(b.testId)),
    history: entries,
    notes: notice ? [notice] : [],
  };
}
