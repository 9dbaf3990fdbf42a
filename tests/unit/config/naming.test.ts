import { describe, expect, it } from 'vitest';
import { CATEGORY_TIMEOUT_MS, pytestNodeId, tagsFor, testIdFor } from '../../../src/config/index.js';

describe('naming', () => {
  it('builds the original test id', () => {
    expect(
      testIdFor('disagg', 'stress', 'deepseek-r1-fp4_1k1k_ctx2_gen1_dep48_bs16_eplb288_mtp3_ccb-DEFAULT'),
    ).toBe('disagg_stress_deepseek-r1-fp4_1k1k_ctx2_gen1_dep48_bs16_eplb288_mtp3_ccb-DEFAULT');
  });

  it('maps categories to the pytest method (perf → test_benchmark)', () => {
    expect(pytestNodeId({ category: 'perf', testId: 'disagg_perf_x' })).toBe(
      'test_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_x]',
    );
    expect(pytestNodeId({ category: 'accuracy', testId: 'a' })).toContain('::test_accuracy[a]');
    expect(pytestNodeId({ category: 'stress', testId: 's' })).toContain('::test_stress[s]');
  });

  it('tags a config with its category and test type', () => {
    expect(tagsFor({ category: 'stress', testType: 'disagg' })).toEqual(['stress', 'disagg']);
    expect(tagsFor({ category: 'perf', testType: 'wideep' })).toEqual(['perf', 'wideep']);
  });

  it('has the spec timeouts', () => {
    expect(CATEGORY_TIMEOUT_MS).toEqual({ perf: 7_200_000, accuracy: 10_800_000, stress: 14_400_000 });
  });
});
