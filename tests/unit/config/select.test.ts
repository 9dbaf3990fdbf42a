import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyTestList, gpuSkipReason, readTestList, supportedGpus } from '../../../src/config/index.js';
import type { Category } from '../../../src/types.js';
import { loadText, MINIMAL, tmpDir } from './helpers.js';

describe('GPU selection', () => {
  const meta = { metadata: { supported_gpus: ['GB200', 'GB300'] } };
  it('skips unsupported GPUs with a reason naming the GPU and the list', () => {
    expect(gpuSkipReason(meta, 'GB200')).toBeUndefined();
    expect(gpuSkipReason(meta, 'GB200_LYRIS')).toBeUndefined();
    expect(gpuSkipReason(meta, 'H100')).toBe('not supported on H100 (supported: GB200, GB300)');
  });

  it('defaults to GB200, GB300, H100, B200, B300 and also reads hardware.supported_gpus', () => {
    expect(supportedGpus({})).toEqual(['GB200', 'GB300', 'H100', 'B200', 'B300']);
    expect(gpuSkipReason({}, 'A100')).toBe(
      'not supported on A100 (supported: GB200, GB300, H100, B200, B300)',
    );
    expect(gpuSkipReason({ hardware: { supported_gpus: ['B200'] } }, 'B200')).toBeUndefined();
  });

  it('loadConfig sets skipReason from GPU_TYPE (default GB200)', () => {
    const text = MINIMAL.replace('  model_name: tiny\n', '  model_name: tiny\n  supported_gpus: [H100]\n');
    expect(loadText(text).skipReason).toBe('not supported on GB200 (supported: H100)');
    expect(loadText(text, { gpuType: 'H100' }).skipReason).toBeUndefined();
  });
});

describe('test lists', () => {
  const write = (name: string, text: string): string => {
    const f = path.join(tmpDir(), name);
    fs.writeFileSync(f, text);
    return f;
  };
  const configs: Array<{ testId: string; category: Category }> = [
    { testId: 'disagg_perf_a', category: 'perf' },
    { testId: 'disagg_stress_b', category: 'stress' },
    { testId: 'wideep_accuracy_c', category: 'accuracy' },
  ];

  it('matches test names and pytest node ids, ignores comments, reports unmatched', () => {
    const list = readTestList(
      write(
        'l.txt',
        [
          '# heading',
          '',
          '  wideep_accuracy_c  ',
          'test_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_a]',
          '# test_disagg.py::TestDisaggBenchmark::test_stress[disagg_stress_b]',
          'test_disagg.py::TestDisaggBenchmark::test_stress[disagg_perf_a]',
          'disagg_perf_zzz',
        ].join('\n'),
      ),
    );
    expect(list.entries.map((e) => e.line)).toEqual([3, 4, 6, 7]);
    const r = applyTestList(configs, list);
    expect(r.selected.map((c) => c.testId)).toEqual(['disagg_perf_a', 'wideep_accuracy_c']);
    expect(r.unmatched).toEqual([
      'test_disagg.py::TestDisaggBenchmark::test_stress[disagg_perf_a]',
      'disagg_perf_zzz',
    ]);
  });

  it('accepts node ids with a directory prefix', () => {
    const r = applyTestList(configs, [
      'perf/disagg/test_disagg.py::TestDisaggBenchmark::test_stress[disagg_stress_b]',
    ]);
    expect(r.selected.map((c) => c.testId)).toEqual(['disagg_stress_b']);
  });

  it('throws for a missing file or a file without ids, naming the file', () => {
    expect(() => readTestList('/nope/list.txt')).toThrow('Test list file not found: /nope/list.txt');
    const empty = write('empty.txt', '# only a comment\n\n');
    expect(() => readTestList(empty)).toThrow(`Test list file ${empty} is empty or contains only comments`);
  });
});
