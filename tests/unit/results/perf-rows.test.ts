import { readFile } from 'node:fs/promises';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { parseBenchLog } from '../../../src/parsers/bench.js';
import { lockClocks } from '../../../src/results/gpu-clocks.js';
import {
  benchKeyForMetricName,
  WIDEEP_PERF_METRIC_NAMES,
  DEFAULT_PERF_METRIC_NAMES,
} from '../../../src/parsers/metric-names.js';
import { formatTimestamp, PERF_CSV_COLUMNS, perfRowsFor } from '../../../src/results/perf-rows.js';
import type { BenchBlock } from '../../../src/types.js';
import { fixtureLog, fixturePath } from '../../fixtures/paths.js';

describe('perf CSV columns', () => {
  it('are exactly the header of the real perf_script_test_results.csv', async () => {
    const text = await readFile(fixturePath('trtllm', 'perf_script_test_results.csv'), 'utf8');
    const header = text.split('\n')[0].replace(/\r$/, '');
    expect(header.split(',')).toEqual([...PERF_CSV_COLUMNS]);
    expect(PERF_CSV_COLUMNS).toHaveLength(17);
  });
});

describe('metric names', () => {
  it('defaults and the wideep 12 in the original order', () => {
    expect(DEFAULT_PERF_METRIC_NAMES).toEqual(['SERVER_MEDIAN_TTFT', 'SERVER_MEDIAN_E2EL']);
    expect(WIDEEP_PERF_METRIC_NAMES).toEqual([
      'SERVER_MEAN_TTFT',
      'SERVER_MEDIAN_TTFT',
      'SERVER_P99_TTFT',
      'SERVER_MEAN_TPOT',
      'SERVER_MEDIAN_TPOT',
      'SERVER_P99_TPOT',
      'SERVER_MEAN_ITL',
      'SERVER_MEDIAN_ITL',
      'SERVER_P99_ITL',
      'SERVER_MEAN_E2EL',
      'SERVER_MEDIAN_E2EL',
      'SERVER_P99_E2EL',
    ]);
  });
  it('map to parsed keys (old names included)', () => {
    expect(benchKeyForMetricName('SERVER_MEDIAN_TTFT')).toBe('median_ttft_ms');
    expect(benchKeyForMetricName('SERVER_P99_ITL')).toBe('p99_itl_ms');
    expect(benchKeyForMetricName('DISAGG_SERVER_E2EL')).toBe('median_e2el_ms');
    expect(benchKeyForMetricName('WIDEP_SERVER_MEAN_TPOT')).toBe('mean_tpot_ms');
    expect(benchKeyForMetricName('MY_METRIC')).toBeUndefined();
  });
});

describe('lockClocks', () => {
  it('GB200 2062/3996, others and unknown 0', () => {
    expect(lockClocks('GB200')).toEqual({ smClk: 2062, memClk: 3996 });
    expect(lockClocks('gb200')).toEqual({ smClk: 2062, memClk: 3996 });
    expect(lockClocks('H100')).toEqual({ smClk: 0, memClk: 0 });
    expect(lockClocks('XYZ')).toEqual({ smClk: 0, memClk: 0 });
    expect(lockClocks(undefined)).toEqual({ smClk: 0, memClk: 0 });
  });
});

describe('perfRowsFor', () => {
  const started = new Date(2025, 9, 31, 1, 5, 40);
  const ended = new Date(started.getTime() + 914_191.629);
  const config = { metadata: { model_name: 'deepseek-r1-fp4', precision: 'fp4' } };

  it('reproduces the real CSV row for a parsed log (one row per metric per complete block)', async () => {
    const { blocks } = await parseBenchLog(fixtureLog('bench_trtllm_srun.log'));
    const rows = perfRowsFor({
      testId: 'disagg_perf_file:deepseek-r1-fp4_001_1k1k_tep:8_bs:32_mtp:0_ccbackend:NIXL',
      category: 'perf',
      testType: 'disagg',
      blocks,
      metricNames: ['DISAGG_SERVER_TTFT', 'DISAGG_SERVER_E2EL'],
      gpuType: 'GB200',
      config,
      startedAt: started,
      endedAt: ended,
      durationSec: 914.191629,
    });
    // Warm-up and the block without `done` give no rows.
    expect(rows.map((r) => [String(r.test_name).split(']')[1], r.metric_type, r.perf_metric])).toEqual([
      ['_con:4', 'DISAGG_SERVER_TTFT', 213.4],
      ['_con:4', 'DISAGG_SERVER_E2EL', 7582.2],
      ['_con:8', 'DISAGG_SERVER_TTFT', 138.13],
      ['_con:8', 'DISAGG_SERVER_E2EL', 7938.94],
    ]);
    const csv = Papa.unparse(
      rows.slice(0, 2).map((r) => PERF_CSV_COLUMNS.map((c) => r[c])),
      { newline: '\n' },
    );
    const real = (await readFile(fixturePath('trtllm', 'perf_script_test_results.csv'), 'utf8')).split('\n');
    expect(csv.split('\n')).toEqual([real[3], real[4]]);
  });

  it('wideep metrics, stress names, custom metric names, missing metrics skipped', () => {
    const block: BenchBlock = {
      concurrency: 16,
      completed: true,
      warmup: false,
      metrics: { mean_ttft_ms: 1, median_ttft_ms: 2, p99_ttft_ms: 3, MY_TPS: 42 },
    };
    const wide = perfRowsFor({
      testId: 'wideep_perf_x',
      category: 'perf',
      testType: 'wideep',
      blocks: [block],
      config: {},
    });
    expect(wide.map((r) => r.metric_type)).toEqual([
      'SERVER_MEAN_TTFT',
      'SERVER_MEDIAN_TTFT',
      'SERVER_P99_TTFT',
    ]);
    expect(wide[0]).toMatchObject({
      test_name: 'test_benchmark[wideep_perf_x]_con:16',
      network_name: 'test_benchmark[wideep_perf_x]_con:16',
      sm_clk: 0,
      mem_clk: 0,
      gpu_idx: '',
      state: 'valid',
      threshold: '',
      absolute_threshold: '',
      command: 'disagg_benchmark --model=unknown --unknown --concurrency=16',
    });
    const custom = perfRowsFor({
      testId: 'disagg_stress_y',
      category: 'stress',
      testType: 'disagg',
      blocks: [block, { ...block, concurrency: null }],
      metricNames: ['MY_TPS'],
      config,
      testName: 'stress/y',
    });
    expect(custom).toHaveLength(1);
    expect(custom[0]).toMatchObject({
      test_name: 'stress/y_con:16',
      network_name: 'stress-y_con:16',
      perf_metric: 42,
    });
    const stress = perfRowsFor({
      testId: 'disagg_stress_y',
      category: 'stress',
      testType: 'disagg',
      blocks: [block],
      config,
    });
    expect(stress[0].test_name).toBe('test_stress[disagg_stress_y]_con:16');
  });

  it('formats timestamps like the original, in local time', () => {
    expect(formatTimestamp(new Date(2025, 0, 2, 3, 4, 5))).toBe('2025-01-02 03:04:05');
  });
});
