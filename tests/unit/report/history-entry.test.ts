// The report reads history.jsonl through src/results/history.ts: a record becomes a trend entry with
// the key and gated metrics (one line per concurrency when there are several) and the gate verdicts.
import { describe, expect, it } from 'vitest';
import { historyEntry } from '../../../src/report/history.js';

describe('historyEntry', () => {
  it('keys metrics by concurrency when a run has several; verdicts without a verdict are left out', () => {
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
      metrics: {
        'output_throughput @4': 300,
        'p99_ttft_ms @4': 90,
        'output_throughput @8': 500,
        'p99_ttft_ms @8': 120,
      },
      gates: [{ metric: 'p99_ttft_ms @8', passed: false, message: 'too slow' }],
    });
  });
});
