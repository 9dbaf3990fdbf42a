import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractCustomMetrics, loadPerfMetrics } from '../../../src/parsers/custom-metrics.js';
import { convertPythonPattern, PythonRegexError } from '../../../src/parsers/python-regex.js';
import { DEFAULT_PERF_PATTERN, DEFAULT_PERF_METRIC_NAMES } from '../../../src/parsers/metric-names.js';
import { fixtureLog } from '../../fixtures/paths.js';

const row = (label: string, value: string): string => `0: ${label.padEnd(40)} ${value.padEnd(10)}`;

// A synthetic 3-block log (`0: ` srun prefixes, padded values): the original yields one tuple per block.
const threeBlocks = [4, 8, 16]
  .flatMap((c, i) => [
    `0: Benchmarking with concurrency ${c} ... ${c * 8} prompts`,
    `0: \r 50%|#####     | 1/2 [00:01<00:01]\r100%|##########| 2/2`,
    '0: ============ Serving Benchmark Result ============',
    row('Median TTFT (ms):', ['213.40', '138.13', '99.99'][i]),
    row('Median E2EL (ms):', ['7582.20', '7938.94', '8000.00'][i]),
    '0: ==================================================',
    `0: Benchmark with concurrency ${c} done`,
  ])
  .join('\n');

describe('convertPythonPattern (VERBOSE + MULTILINE)', () => {
  it('drops unescaped whitespace and comments, keeps escaped spaces and class contents', () => {
    const { source, flags } = convertPythonPattern(String.raw`
      ^Median\ TTFT   # the label
      [ a#]  \#  (?P<v>\d+) (?P=v) (?#note)`);
    expect(source).toBe(String.raw`^Median TTFT[ a#]#(?<v>\d+)\k<v>`);
    expect(flags).toBe('gm');
  });

  it('`.` does not match newlines but does match \\r; leading ] in a class; \\A \\Z; global flags', () => {
    expect(convertPythonPattern('a.b').source).toBe('a[^\\n]b');
    expect(new RegExp(convertPythonPattern('x.y').source).test('x\ry')).toBe(true);
    expect(convertPythonPattern('[]a]').source).toBe('[\\]a]');
    expect(convertPythonPattern('[^]a]').source).toBe('[^\\]a]');
    expect(convertPythonPattern('\\Aa\\Z').source).toBe('(?<![\\s\\S])a(?![\\s\\S])');
    expect(convertPythonPattern('(?is)a.b')).toEqual({ source: 'a.b', flags: 'gmis' });
  });

  it('rejects what it cannot translate', () => {
    expect(() => convertPythonPattern('a(?i:b)')).toThrow(PythonRegexError);
    expect(() => convertPythonPattern('[abc')).toThrow(PythonRegexError);
  });
});

describe('extractCustomMetrics', () => {
  it("the original's default pattern gives one tuple per block, last group = concurrency", () => {
    const { blocks, warnings } = extractCustomMetrics(
      threeBlocks,
      DEFAULT_PERF_PATTERN,
      DEFAULT_PERF_METRIC_NAMES,
    );
    expect(warnings).toEqual([]);
    expect(blocks.map((b) => [b.concurrency, b.metrics])).toEqual([
      [4, { SERVER_MEDIAN_TTFT: 213.4, SERVER_MEDIAN_E2EL: 7582.2 }],
      [8, { SERVER_MEDIAN_TTFT: 138.13, SERVER_MEDIAN_E2EL: 7938.94 }],
      [16, { SERVER_MEDIAN_TTFT: 99.99, SERVER_MEDIAN_E2EL: 8000 }],
    ]);
  });

  it('zips with metric_names (extra names or groups ignored, with a warning)', () => {
    const pattern = String.raw`^.*?Median\ TTFT\ \(ms\):\s+([0-9.]+)(?:.*\n)*?^.*?Benchmark\ with\ concurrency\ (\d+)\ done`;
    const { blocks, warnings } = extractCustomMetrics(threeBlocks, pattern, ['TTFT', 'EXTRA']);
    expect(blocks.map((b) => b.metrics)).toEqual([{ TTFT: 213.4 }, { TTFT: 138.13 }, { TTFT: 99.99 }]);
    expect(warnings.join()).toMatch(/1 metric group\(s\) but metric_names lists 2/);
  });

  it('a pattern with a single group is skipped with a warning', () => {
    const { blocks, warnings } = extractCustomMetrics(threeBlocks, String.raw`concurrency\ (\d+)\ done`, [
      'X',
    ]);
    expect(blocks).toEqual([]);
    expect(warnings[0]).toMatch(/Expected at least 2 groups/);
  });
});

describe('loadPerfMetrics', () => {
  it('uses the streaming parser by default and the override when given', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'custom-'));
    try {
      await copyFile(fixtureLog('bench_trtllm_srun.log'), path.join(dir, '6_bench.log'));
      await writeFile(path.join(dir, 'bench.log'), threeBlocks);
      const def = await loadPerfMetrics(dir, 'disagg', undefined);
      expect(def.metricNames).toEqual(['SERVER_MEDIAN_TTFT', 'SERVER_MEDIAN_E2EL']);
      expect(def.logFile).toBe('6_bench.log');
      expect(def.blocks.filter((b) => b.completed).map((b) => b.concurrency)).toEqual([4, 8]);
      const wide = await loadPerfMetrics(dir, 'wideep', undefined);
      expect(wide.metricNames).toHaveLength(12);
      const custom = await loadPerfMetrics(dir, 'disagg', {
        log_file: 'bench.log',
        extractor_pattern: DEFAULT_PERF_PATTERN,
        metric_names: ['A', 'B'],
      });
      expect(custom.blocks.map((b) => b.metrics.A)).toEqual([213.4, 138.13, 99.99]);
      await expect(
        loadPerfMetrics(dir, 'disagg', { log_file: 'nope.log', extractor_pattern: 'x' }),
      ).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
