// A run's perf verdicts: gates judge (and can fail), without gates only the deltas against history are
// given, and the worst check is named for the summary.
import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../../src/results/history.js';
import { checkGates, judgeRun } from '../../../src/stats/perf-verdicts.js';

const run = (day: number, tput: number): HistoryRecord => ({
  test: 't',
  endTime: `2026-01-0${day}T00:00:00Z`,
  passed: true,
  metrics: { '4': { output_throughput: tput, median_ttft_ms: 100 } },
});
const history = [run(1, 1000), run(2, 1010), run(3, 990)];

describe('judgeRun', () => {
  it('a slowed run fails its history gate with the sentence', () => {
    const v = judgeRun(
      [{ metric: 'output_throughput', history: true }],
      { '4': { output_throughput: 660 } },
      history,
    );
    expect(v.deltas).toEqual([]);
    expect(v.gates).toHaveLength(1);
    expect(v.gates[0]?.passed).toBe(false);
    expect(v.gates[0]?.message).toMatch(
      /^output_throughput at concurrency 4: 660 tok\/s is 34\.0 % below the baseline 1,000 \(median of 3 runs.*→ FAILED$/,
    );
    expect(v.worst).toBe(v.gates[0]?.message);
  });

  it('without gates gives the changes against history in words, never a verdict, and one line: the largest', () => {
    const v = judgeRun([], { '4': { output_throughput: 660, median_ttft_ms: 101 } }, history);
    expect(v.gates).toEqual([]);
    expect(v.deltas.map((d) => d.metric)).toEqual(['output_throughput', 'median_ttft_ms']);
    expect(v.deltas[0]?.message).toBe(
      'output_throughput at concurrency 4: 660 tok/s is 34.0 % below the baseline 1,000 (median of 3 runs, noise ±1.5 %)',
    );
    expect(v.deltas[1]?.message).toMatch(
      /^median_ttft_ms at concurrency 4: 101 ms is 1\.0 % above the baseline 100 /,
    );
    for (const d of v.deltas) {
      expect(d.message).not.toMatch(/FAILED|PASSED|→/);
      expect(d.passed).toBeNull();
    }
    // The largest change (34 % throughput, not 1 % TTFT), whatever the metric order.
    expect(v.delta).toBe(
      `${v.deltas[0]?.message} (largest of 2 changes against history; no gate, informational)`,
    );
    expect(v.worst).toBe(v.delta);
    const ttftWorse = judgeRun([], { '4': { output_throughput: 1001, median_ttft_ms: 150 } }, history);
    expect(ttftWorse.delta).toMatch(/^median_ttft_ms at concurrency 4: 150 ms is 50\.0 % above/);
  });

  it('without gates says nothing against fewer earlier runs than a history gate needs (3)', () => {
    const v = judgeRun([], { '4': { output_throughput: 660, median_ttft_ms: 101 } }, history.slice(0, 2));
    expect(v.deltas).toEqual([]);
    expect(v.delta).toBeUndefined();
    expect(v.worst).toBeUndefined();
  });

  it('numbers each gate check with its gate, for pointing at its YAML entry', () => {
    const v = judgeRun(
      [
        { metric: 'output_throughput', limit: 1 },
        { metric: 'median_ttft_ms', limit: 50 },
      ],
      { '4': { output_throughput: 660, median_ttft_ms: 101 } },
      history,
    );
    expect(v.gates.map((g) => [g.metric, g.gate, g.passed])).toEqual([
      ['output_throughput', 0, true],
      ['median_ttft_ms', 1, false],
    ]);
  });

  it('says no verdict with fewer baseline runs than min_runs', () => {
    const v = judgeRun(
      [{ metric: 'output_throughput', history: true }],
      { '4': { output_throughput: 660 } },
      history.slice(0, 2),
    );
    expect(v.gates[0]?.passed).toBeNull();
    expect(v.gates[0]?.message).toMatch(/no verdict: 2 baseline runs, 3 needed/);
  });
});

describe('checkGates', () => {
  it('names the file, the gate and the path of a bad gate', () => {
    expect(() =>
      checkGates(
        [
          { metric: 'output_throughput', history: true },
          { metric: 'x', limit: 3 },
        ],
        'c.yaml',
      ),
    ).toThrow(
      'c.yaml: gates[1].higher_is_better: whether more or less x is better is not known from its name',
    );
    expect(() => checkGates([{ metric: 'p99_ttft_ms', tolerance: 5, reference: 1 }], 'c.yaml')).toThrow(
      /^c\.yaml: gates\[0\]\.tolerance: must be a fraction/,
    );
    expect(() => checkGates([{ metric: 'p99_ttft_ms', limit: 2000 }], 'c.yaml')).not.toThrow();
  });
});
