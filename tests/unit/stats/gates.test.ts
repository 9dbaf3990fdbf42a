// Perf gates: an SLA limit and a reference value fail and pass with messages naming metric,
// concurrency, value and limit; the history gate uses the rule; bad gates are named.
import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../../src/results/history.js';
import { evaluateGate, evaluateGates, gateProblems } from '../../../src/stats/gates.js';

const measured = {
  '16': { p99_ttft_ms: 1850, output_throughput: 10840, median_ttft_ms: 900, successful_requests: 64 },
  '64': { p99_ttft_ms: 2150.5, output_throughput: 11930, median_ttft_ms: 1200, successful_requests: 256 },
};

describe('SLA (limit) gate', () => {
  it('p99 TTFT ≤ 2000 ms: passes at 16, fails at 64, naming metric, concurrency, value and limit', () => {
    const results = evaluateGate({ metric: 'p99_ttft_ms', limit: 2000 }, measured);
    expect(results.map((r) => [r.kind, r.concurrency, r.value, r.bound, r.passed])).toEqual([
      ['limit', 16, 1850, 2000, true],
      ['limit', 64, 2150.5, 2000, false],
    ]);
    expect(results[0].message).toBe(
      'p99_ttft_ms at concurrency 16: 1,850 ms is within the limit of at most 2,000 ms → PASSED',
    );
    expect(results[1].message).toBe(
      'p99_ttft_ms at concurrency 64: 2,150.5 ms is above the limit of at most 2,000 ms → FAILED',
    );
  });

  it('throughput ≥ limit (higher is better); the limit itself passes', () => {
    const [low, high] = evaluateGate({ metric: 'output_throughput', limit: 11930 }, measured);
    expect(low.passed).toBe(false);
    expect(low.message).toBe(
      'output_throughput at concurrency 16: 10,840 tok/s is below the limit of at least 11,930 tok/s → FAILED',
    );
    expect(high.passed).toBe(true);
  });

  it('only the listed concurrencies; an unmeasured one fails saying what was measured', () => {
    const results = evaluateGate({ metric: 'p99_ttft_ms', limit: 2000, concurrency: [16, 128] }, measured);
    expect(results.map((r) => [r.concurrency, r.passed])).toEqual([
      [16, true],
      [128, false],
    ]);
    expect(results[1].message).toBe(
      'p99_ttft_ms at concurrency 128: concurrency 128 was not measured (measured: 16, 64) → FAILED',
    );
    const missing = evaluateGate({ metric: 'p99_itl_ms', limit: 50, concurrency: 16 }, measured);
    expect(missing[0].passed).toBe(false);
    expect(missing[0].message).toMatch(
      /p99_itl_ms at concurrency 16: not measured \(metrics there: p99_ttft_ms, /,
    );
  });

  it('the direction can be overridden; the original CSV names work too', () => {
    const [r] = evaluateGate(
      { metric: 'successful_requests', limit: 100, higher_is_better: true, concurrency: 16 },
      measured,
    );
    expect(r.passed).toBe(false);
    expect(r.message).toBe(
      'successful_requests at concurrency 16: 64 is below the limit of at least 100 → FAILED',
    );
    const [csvName] = evaluateGate({ metric: 'SERVER_MEDIAN_TTFT', limit: 1000, concurrency: 64 }, measured);
    expect(csvName.value).toBe(1200);
    expect(csvName.passed).toBe(false);
  });
});

describe('reference gate', () => {
  it('fails beyond the tolerance and passes within it, naming the reference and the allowance', () => {
    const [at16, at64] = evaluateGate(
      { metric: 'output_throughput', reference: 11500, tolerance: 0.05 },
      measured,
    );
    expect(at16.passed).toBe(false); // 10,840 is 5.7 % below 11,500
    expect([at16.value, at16.bound]).toEqual([10840, 11500]);
    expect(at16.message).toBe(
      'output_throughput at concurrency 16: 10,840 tok/s is 5.7 % below the reference 11,500; allowed −5.0 % → FAILED',
    );
    expect(at64.passed).toBe(true); // 3.7 % above: better
    expect(at64.message).toBe(
      'output_throughput at concurrency 64: 11,930 tok/s is 3.7 % above the reference 11,500; allowed −5.0 % → PASSED',
    );
  });

  it('latency: 2,150.5 against 2,000 with the default 5 % fails; with 10 % passes', () => {
    const [strict] = evaluateGate({ metric: 'p99_ttft_ms', reference: 2000, concurrency: 64 }, measured);
    expect(strict.passed).toBe(false);
    expect(strict.message).toBe(
      'p99_ttft_ms at concurrency 64: 2,150.5 ms is 7.5 % above the reference 2,000; allowed +5.0 % → FAILED',
    );
    const [loose] = evaluateGate(
      { metric: 'p99_ttft_ms', reference: 2000, tolerance: 0.1, concurrency: 64 },
      measured,
    );
    expect(loose.passed).toBe(true);
    expect(loose.message).toMatch(/allowed \+10.0 % → PASSED$/);
  });
});

describe('history gate', () => {
  const rec = (endTime: string, v: number, passed = true): HistoryRecord => ({
    test: 't',
    endTime,
    passed,
    metrics: { '64': { median_ttft_ms: v } },
  });

  it('judges against the median of the last passed runs', () => {
    const history = [
      rec('2026-01-01T00:00:00Z', 1000),
      rec('2026-01-02T00:00:00Z', 1010),
      rec('2026-01-03T00:00:00Z', 500, false), // failed: not a baseline
      rec('2026-01-04T00:00:00Z', 990),
    ];
    const [r] = evaluateGate({ metric: 'median_ttft_ms', history: true, concurrency: 64 }, measured, history);
    // median 1000, MAD 10, noise 1.48 %, allowed max(5 %, 4.45 %) = 5 %; 1,200 is 20 % above
    expect(r.passed).toBe(false);
    expect([r.value, r.bound]).toEqual([1200, 1000]);
    expect(r.message).toBe(
      'median_ttft_ms at concurrency 64: 1,200 ms is 20.0 % above the baseline 1,000 (median of 3 runs, noise ±1.5 %); allowed +5.0 % → FAILED',
    );
    const [ok] = evaluateGate(
      { metric: 'median_ttft_ms', history: { tolerance: 0.25 }, concurrency: 64 },
      measured,
      history,
    );
    expect(ok.passed).toBe(true);
  });

  it('fewer than min_runs runs: no verdict, said so', () => {
    const history = [rec('2026-01-01T00:00:00Z', 1000), rec('2026-01-02T00:00:00Z', 1010)];
    const [r] = evaluateGate({ metric: 'median_ttft_ms', history: true, concurrency: 64 }, measured, history);
    expect(r.passed).toBeNull();
    expect(r.message).toMatch(/→ no verdict: 2 baseline runs, 3 needed$/);
    const [none] = evaluateGate({ metric: 'median_ttft_ms', history: true, concurrency: 64 }, measured, []);
    expect(none.passed).toBeNull();
    expect(none.message).toMatch(/no verdict: no earlier passed run has this value, 3 needed$/);
  });
});

describe('gate problems', () => {
  it('names what is wrong and what to do', () => {
    expect(gateProblems({ metric: 'p99_ttft_ms' })).toEqual([
      { path: '', message: 'the gate on p99_ttft_ms checks nothing: give limit, reference and/or history' },
    ]);
    expect(gateProblems({ metric: 'odd_count', limit: 3 })).toEqual([
      {
        path: 'higher_is_better',
        message:
          'whether more or less odd_count is better is not known from its name: set higher_is_better: true or false',
      },
    ]);
    expect(gateProblems({ metric: 'p99_ttft_ms', reference: 1, tolerance: 5 })[0].path).toBe('tolerance');
    expect(gateProblems({ metric: 'p99_ttft_ms', history: { runs: -1 } })[0].path).toBe('history.runs');
    expect(gateProblems({ metric: 'p99_ttft_ms', limit: 1, higher_is_better: false })).toEqual([]);
    expect(() => evaluateGates([{ metric: 'odd_count', limit: 3 }], measured)).toThrow(
      /invalid perf gate on odd_count: higher_is_better: /,
    );
  });
});
