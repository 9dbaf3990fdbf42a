import { describe, expect, it } from 'vitest';
import { disaggProperties } from '../../../src/progress/junit-properties.js';

describe('disaggProperties', () => {
  it('names the job, state, logs, every perf metric per concurrency and each accuracy value and threshold', () => {
    const props = disaggProperties({
      testId: 'disagg_stress_x',
      jobId: '1234',
      jobState: 'COMPLETED',
      logDir: '/out/slurm_logs/runs/r/disagg_stress_x',
      live: { jobId: '1234', state: 'COMPLETED', nodes: 'node1' },
      perf: {
        concurrencies: [1, 4],
        rows: 2,
        csv: '/out/perf.csv',
        incomplete: [],
        failedRequests: 0,
        metrics: { '1': { mean_ttft_ms: 12.5, output_token_throughput: 100 }, '4': { mean_ttft_ms: 20 } },
      },
      accuracy: {
        logs: [],
        verdicts: [
          { dataset: 'gsm8k', passed: true, observed: 0.91, threshold: 0.78, message: '' },
          { dataset: 'gsm8k', passed: false, observed: 0.5, threshold: 0.78, message: '' },
        ],
      },
    });
    expect(Object.fromEntries(props.map((p) => [p.name, p.value]))).toEqual({
      'disagg.testId': 'disagg_stress_x',
      'disagg.jobId': '1234',
      'disagg.state': 'COMPLETED',
      'disagg.nodes': 'node1',
      'disagg.logDir': '/out/slurm_logs/runs/r/disagg_stress_x',
      'disagg.perf.csv': '/out/perf.csv',
      'disagg.perf.concurrencies': '1,4',
      'disagg.perf.con1.mean_ttft_ms': '12.5',
      'disagg.perf.con1.output_token_throughput': '100',
      'disagg.perf.con4.mean_ttft_ms': '20',
      'disagg.accuracy.gsm8k.value': '0.91',
      'disagg.accuracy.gsm8k.threshold': '0.78',
      'disagg.accuracy.gsm8k.passed': 'true',
      'disagg.accuracy.gsm8k#2.value': '0.5',
      'disagg.accuracy.gsm8k#2.threshold': '0.78',
      'disagg.accuracy.gsm8k#2.passed': 'false',
    });
  });

  it('a job that never ran: what is known, nothing invented', () => {
    expect(
      disaggProperties({ testId: 't', jobId: '9', jobState: 'FAILED', jobReason: 'NonZeroExitCode' }),
    ).toEqual([
      { name: 'disagg.testId', value: 't' },
      { name: 'disagg.jobId', value: '9' },
      { name: 'disagg.state', value: 'FAILED' },
      { name: 'disagg.reason', value: 'NonZeroExitCode' },
    ]);
  });
});
