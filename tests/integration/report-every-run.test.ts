// The closing summary and report.html come with every run, whatever its `--reporter` list, and the
// report of a partial run still lists the output dir's other tests: two runs of the stress suite on the
// local executor over one output dir, the first with `--reporter=default --reporter=junit` on configs a
// and b, the second with `--reporter=dot --project disagg` (no `test.projects` in vitest.config.ts) on b
// and c. Then b alone until it has a baseline of 3 runs: its changes against history are one line per
// run (all of them with `--reporter=verbose`), never a verdict.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { parseJUnit } from './helpers/junit-xml.js';
import { VITEST } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/partial');

/** Reporter output without colour codes. */
function plain(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}

describe('report.html and the summary on every run (local executor)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'report-every-run-'));
  const out = path.join(work, 'out');
  const report = path.join(out, 'report.html');

  function run(args: string[]): { status: number | null; output: string; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [VITEST, 'run', ...args], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DISAGG_CONFIG_DIR: SUITE,
        DISAGG_EXECUTOR: 'local',
        OUTPUT_PATH: out,
        GPU_TYPE: 'GB200',
      },
      encoding: 'utf8',
      timeout: 240_000,
    });
    return {
      status: r.status,
      output: plain(r.stdout + r.stderr),
      stdout: r.stdout,
      stderr: plain(r.stderr),
    };
  }

  /** The test ids of the report's overview rows, and the header's test count. */
  function reported(): { ids: string[]; header: string } {
    const html = fs.readFileSync(report, 'utf8');
    const ids = [...html.matchAll(/<tr data-test="([^"]+)"/g)].map((m) => m[1]);
    return { ids, header: /<p>(\d+ test\(s\)[^·]*)·/.exec(html)?.[1]?.trim() ?? '' };
  }

  it('writes both with --reporter=default --reporter=junit, and a later partial run hides no test', () => {
    const junit = path.join(work, 'junit.xml');
    const first = run([
      '--reporter=default',
      '--reporter=junit',
      `--outputFile.junit=${junit}`,
      '-t',
      'disagg_perf_[ab]$',
    ]);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('vitest-disagg summary');
    expect(first.output).toContain(`report:   ${report}`);
    const ran = parseJUnit(fs.readFileSync(junit, 'utf8')).filter((c) => !c.skipped);
    expect(ran.map((c) => c.name)).toEqual(['perf > disagg_perf_a', 'perf > disagg_perf_b']);
    expect(reported()).toEqual({
      ids: ['disagg_perf_a', 'disagg_perf_b'],
      header: '2 test(s) (2 of this run)',
    });
    const before = fs.statSync(report).mtimeMs;

    const second = run(['--reporter=dot', '--project', 'disagg', '-t', 'disagg_perf_[bc]$']);
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('vitest-disagg summary');
    expect(fs.statSync(report).mtimeMs).toBeGreaterThan(before);
    expect(reported()).toEqual({
      ids: ['disagg_perf_a', 'disagg_perf_b', 'disagg_perf_c'],
      header: '3 test(s) (2 of this run)',
    });
    // b's one earlier run is no baseline (min_runs 3): no history line, and never the word FAILED.
    expect(second.output).not.toContain('perf vs history');
    expect(second.output).not.toContain('FAILED');

    // b's third run has 2 earlier runs (still no baseline); its fourth has 3: one line, the largest
    // change; with --reporter=verbose every compared metric (3 of them at concurrency 4).
    const historyLines = (output: string) => output.split('\n').filter((l) => l.includes('perf vs history'));
    // `--reporter=junit` alone prints its XML on stdout: the summary goes to stderr, the XML stays whole.
    const third = run(['--reporter=junit', '-t', 'disagg_perf_b$']);
    expect(third.status, third.output).toBe(0);
    expect(historyLines(third.output)).toEqual([]);
    expect(
      parseJUnit(third.stdout)
        .filter((c) => !c.skipped)
        .map((c) => c.name),
    ).toEqual(['perf > disagg_perf_b']);
    expect(third.stdout).not.toContain('vitest-disagg summary');
    expect(third.stderr).toContain('vitest-disagg summary');
    const fourth = run(['-t', 'disagg_perf_b$']);
    expect(fourth.status, fourth.output).toBe(0);
    expect(historyLines(fourth.output), fourth.output).toHaveLength(1);
    expect(historyLines(fourth.output)[0]).toMatch(
      /disagg_perf_b: perf vs history: \w+ at concurrency 4: .* the baseline .*\(median of 3 runs, noise ±[\d.]+ %\) \(largest of 3 changes against history; no gate, informational\)/,
    );
    expect(fourth.output).not.toContain('FAILED');
    const fifth = run(['--reporter=verbose', '-t', 'disagg_perf_b$']);
    expect(fifth.status, fifth.output).toBe(0);
    expect(historyLines(fifth.output).map((l) => /history: (\w+) at/.exec(l)?.[1])).toEqual([
      'output_throughput',
      'median_ttft_ms',
      'median_tpot_ms',
    ]);
  }, 600_000);
});
