// Perf gates through the whole plugin on the local executor, runs one after another on one output dir:
// three normal simulator runs build the history, a fourth slowed 1.5× (simulator.slowdown, outside the
// config hash) fails its output-throughput history gate with the verdict sentence, DEBUG_MODE re-judges
// that failed run's `_ERROR` logs twice without touching the CSV or the history, and a fifth normal run
// passes again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { perfCsvPath } from '../../src/results/csv.js';
import { historyPath, readHistoryRecords } from '../../src/results/history.js';
import { repoRoot } from '../fixtures/paths.js';
import { plain, resultOf, runSuite } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/gates');
const TEST_ID = 'disagg_perf_gated';
const SLOWED =
  /output_throughput at concurrency 4: [\d,.]+ tok\/s is [\d.]+ % below the baseline [\d,.]+ \(median of 3 runs, noise ±[\d.]+ %\); allowed −[\d.]+ % → FAILED/;

interface SuiteResult {
  status: string;
  failure: string;
  output: string;
}

describe('perf gates against history (local executor)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gates-'));
  const configDir = path.join(work, 'configs');
  const out = path.join(work, 'out');
  const yaml = path.join(configDir, 'disagg/perf/gated.yaml');
  fs.cpSync(SUITE, configDir, { recursive: true });
  const normal = fs.readFileSync(yaml, 'utf8');

  function runGated(env: Record<string, string> = {}): SuiteResult {
    const { output, report } = runSuite(configDir, out, {
      json: path.join(work, 'report.json'),
      env: { DISAGG_EXECUTOR: 'local', ...env },
      timeoutMs: 120_000,
    });
    const test = resultOf(report, TEST_ID, output);
    return { status: test.status, failure: test.failureMessages.join('\n'), output };
  }

  const files = () => [fs.readFileSync(perfCsvPath(out), 'utf8'), fs.readFileSync(historyPath(out), 'utf8')];

  it('builds the history, fails a 1.5× slowed run with the sentence, re-judges it idempotently, passes again', async () => {
    for (let i = 1; i <= 3; i++) {
      const r = runGated();
      expect(r.status, `normal run ${i}:\n${r.output}`).toBe('passed');
      expect(r.output).toMatch(/no verdict: .*3 needed/);
    }

    fs.writeFileSync(yaml, normal.replace('  time_scale: 0.02\n', '  time_scale: 0.02\n  slowdown: 1.5\n'));
    const slowed = runGated();
    expect(slowed.status, slowed.output).toBe('failed');
    expect(slowed.failure).toMatch(SLOWED);
    expect(slowed.failure).toMatch(/_ERROR/);
    // The failure's location (the stack line the code frame is drawn from) is the failed gate's entry.
    const slowedYaml = fs.readFileSync(yaml, 'utf8').split('\n');
    const gateLine = slowedYaml.findIndex((l) => /^\s*- metric: output_throughput/.test(l)) + 1;
    expect(gateLine).toBeGreaterThan(0);
    expect(plain(slowed.output)).toMatch(
      new RegExp(`gated\\.yaml:${gateLine}:\\d+\\n(?:.*\\n){0,3}.*- metric: output_throughput`),
    );

    const before = files();
    for (let i = 1; i <= 2; i++) {
      const debug = runGated({ DEBUG_MODE: '1' });
      expect(debug.status, `DEBUG_MODE run ${i}:\n${debug.output}`).toBe('failed');
      expect(debug.failure).toMatch(SLOWED);
      expect(files(), `DEBUG_MODE run ${i} changed the CSV or the history`).toEqual(before);
    }

    fs.writeFileSync(yaml, normal);
    const recovered = runGated();
    expect(recovered.status, recovered.output).toBe('passed');
    expect(recovered.output).toMatch(/output_throughput at concurrency 4: .*median of 3 runs.*→ PASSED/);

    const history = await readHistoryRecords(out);
    expect(history.map((h) => h.passed)).toEqual([true, true, true, false, true]);
    // One config hash for all five: the slowdown knob is not part of it.
    expect(new Set(history.map((h) => h.configHash)).size).toBe(1);
    expect(new Set(history.map((h) => h.jobId)).size).toBe(5);
    // The version the (simulated) workers print at start-up.
    expect(history.map((h) => h.softwareVersion)).toEqual(Array(5).fill('0.0.0-disagg-sim'));
    // Two CSV rows per run (the 17 columns, unchanged), none added by DEBUG_MODE.
    expect(files()[0]?.trim().split('\n')).toHaveLength(1 + 5 * 2);
  }, 600_000);
});
