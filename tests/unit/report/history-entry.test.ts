// The report reads history.jsonl through src/results/history.ts: a record becomes a trend entry with
// the key and gated metrics per concurrency (numeric order) and each point's gate verdict.
import { describe, expect, it } from 'vitest';
import { historyEntry } from '../../../src/report/history.js';

describe('historyEntry', () => {
  it('keeps key and gated metrics per concurrency; verdicts without a verdict are left out', () => {
    const e = historyEntry({
      test: 't',
      endTime: '2026-11-29T05:00:00.000Z',
      passed: false,
      runId: 'r1',
      metrics: {
        '4': { output_throughput: 300, p99_ttft_ms: 90, total_requests: 8 },
        '8': { output_throughput: 500, p99_ttft_ms: 120, total_requests: 16 },
      },
      verdicts: [
        { kind: 'limit', metric: 'p99_ttft_ms', concurrency: 8, passed: false, message: 'too slow' },
        { kind: 'history', metric: 'output_throughput', concurrency: 4, passed: null, message: 'no verdict' },
      ],
    });
    expect(e).toEqual({
      runId: 'r1',
      at: '2026-11-29T05:00:00.000Z',
      testId: 't',
      passed: false,
      points: [
        { metric: 'output_throughput', concurrency: 4, value: 300, gate: 'no gate' },
        { metric: 'p99_ttft_ms', concurrency: 4, value: 90, gate: 'no gate' },
        { metric: 'output_throughput', concurrency: 8, value: 500, gate: 'no gate' },
        { metric: 'p99_ttft_ms', concurrency: 8, value: 120, gate: 'failed' },
      ],
      gates: [{ metric: 'p99_ttft_ms', concurrency: 8, passed: false, message: 'too slow' }],
    });
  });

  it('orders concurrencies as numbers and applies a gate without a concurrency to each of them', () => {
    const e = historyEntry({
      test: 't',
      endTime: '2026-11-29T05:00:00.000Z',
      passed: true,
      metrics: {
        '256': { goodput: 3 },
        '64': { goodput: 2 },
        '8': { goodput: 1 },
      },
      verdicts: [{ kind: 'limit', metric: 'goodput', concurrency: null, passed: true, message: 'ok' }],
    });
    expect(e.points.map((p) => [p.concurrency, p.gate])).toEqual([
      [8, 'passed'],
      [64, 'passed'],
      [256, 'passed'],
    ]);
  });
});
