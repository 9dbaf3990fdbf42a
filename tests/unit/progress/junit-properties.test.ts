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
        metrics: {
          '1': { mean_ttft_ms: 12.5, output_token_throughput: 100, goodput: 0.5, slo_attainment: 100 },
          '4': { mean_ttft_ms: 20 },
        },
        slo: { ttft_ms: 500, tpot_ms: 50 },
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
      'disagg.perf.slo.ttft_ms': '500',
      'disagg.perf.slo.tpot_ms': '50',
      'disagg.perf.con1.mean_ttft_ms': '12.5',
      'disagg.perf.con1.output_token_throughput': '100',
      'disagg.perf.con1.goodput': '0.5',
      'disagg.perf.con1.slo_attainment': '100',
      'disagg.perf.con4.mean_ttft_ms': '20',
      'disagg.accuracy.gsm8k.value': '0.91',
      'disagg.accuracy.gsm8k.threshold': '0.78',
      'disagg.accuracy.gsm8k.passed': 'true',
      'disagg.accuracy.gsm8k#2.value': '0.5',
      'disagg.accuracy.gsm8k#2.threshold': '0.78',
      'disagg.accuracy.gsm8k#2.passed': 'false',
    });
  });

  it('each gate verdict: metric, concurrency, value, limit/reference/baseline and verdict', () => {
    const props = disaggProperties({
      testId: 't',
      perf: {
        concurrencies: [1, 4],
        rows: 2,
        csv: '/out/perf.csv',
        incomplete: [],
        failedRequests: 0,
        metrics: {},
        gates: [
          {
            kind: 'limit',
            metric: 'p99_ttft_ms',
            concurrency: 4,
            value: 2100,
            bound: 2000,
            passed: false,
            message: 'm1',
          },
          {
            kind: 'reference',
            metric: 'output_throughput',
            concurrency: 1,
            value: 98,
            bound: 100,
            passed: true,
            message: 'm2',
          },
          {
            kind: 'history',
            metric: 'output_throughput',
            concurrency: 1,
            value: 98,
            bound: 99.5,
            passed: null,
            message: 'm3',
          },
          {
            kind: 'limit',
            metric: 'p99_ttft_ms',
            concurrency: 4,
            value: 2100,
            bound: 3000,
            passed: true,
            message: 'm4',
          },
          { kind: 'limit', metric: 'p99_itl_ms', concurrency: 8, value: null, passed: false, message: 'm5' },
        ],
        deltas: [
          { kind: 'delta', metric: 'median_ttft_ms', concurrency: 1, passed: true, message: 'not a gate' },
        ],
      },
    });
    const gateProps = Object.fromEntries(
      props.filter((p) => p.name.startsWith('disagg.gate.')).map((p) => [p.name, p.value]),
    );
    expect(gateProps).toEqual({
      'disagg.gate.p99_ttft_ms.con4.limit.value': '2100',
      'disagg.gate.p99_ttft_ms.con4.limit.limit': '2000',
      'disagg.gate.p99_ttft_ms.con4.limit.verdict': 'failed',
      'disagg.gate.p99_ttft_ms.con4.limit.message': 'm1',
      'disagg.gate.output_throughput.con1.reference.value': '98',
      'disagg.gate.output_throughput.con1.reference.reference': '100',
      'disagg.gate.output_throughput.con1.reference.verdict': 'passed',
      'disagg.gate.output_throughput.con1.reference.message': 'm2',
      'disagg.gate.output_throughput.con1.history.value': '98',
      'disagg.gate.output_throughput.con1.history.baseline': '99.5',
      'disagg.gate.output_throughput.con1.history.verdict': 'none',
      'disagg.gate.output_throughput.con1.history.message': 'm3',
      'disagg.gate.p99_ttft_ms.con4.limit#2.value': '2100',
      'disagg.gate.p99_ttft_ms.con4.limit#2.limit': '3000',
      'disagg.gate.p99_ttft_ms.con4.limit#2.verdict': 'passed',
      'disagg.gate.p99_ttft_ms.con4.limit#2.message': 'm4',
      'disagg.gate.p99_itl_ms.con8.limit.value': 'not measured',
      'disagg.gate.p99_itl_ms.con8.limit.verdict': 'failed',
      'disagg.gate.p99_itl_ms.con8.limit.message': 'm5',
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
