import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBenchResults, metricsFromResultJson } from '../../../src/parsers/bench.js';
import { fixtureLog } from '../../fixtures/paths.js';

// Shape of benchmark_serving --save-result (TRT-LLM/vLLM), trimmed to what matters.
const resultJson = (c: number, medianTtft: number) => ({
  date: '20251031-010540',
  backend: 'openai',
  max_concurrency: c,
  num_prompts: c * 8,
  completed: c * 8,
  failed: 0,
  duration: 41.0712,
  total_input_tokens: c * 8 * 1024,
  total_output_tokens: c * 8 * 1024,
  request_throughput: 0.7791,
  output_throughput: 798.1234,
  total_token_throughput: 1596.2468,
  mean_ttft_ms: 234.567,
  median_ttft_ms: medianTtft,
  std_ttft_ms: 42.6812,
  p99_ttft_ms: 533.5,
  'p99.9_ttft_ms': 600.25,
  median_e2el_ms: 7582.2049,
  ttfts: [0.1, 0.2],
  generated_texts: ['a'],
  errors: [''],
});

describe('metricsFromResultJson', () => {
  it('maps field names and drops arrays and strings', () => {
    expect(metricsFromResultJson(resultJson(4, 213.4012))).toEqual({
      max_concurrency: 4,
      total_requests: 32,
      successful_requests: 32,
      failed_requests: 0,
      duration_s: 41.0712,
      total_input_tokens: 32768,
      total_output_tokens: 32768,
      request_throughput: 0.7791,
      output_throughput: 798.1234,
      total_token_throughput: 1596.2468,
      mean_ttft_ms: 234.567,
      median_ttft_ms: 213.4012,
      std_ttft_ms: 42.6812,
      p99_ttft_ms: 533.5,
      p99_9_ttft_ms: 600.25,
      median_e2el_ms: 7582.2049,
    });
    expect(metricsFromResultJson(null)).toEqual({});
    expect(metricsFromResultJson([1, 2])).toEqual({});
  });
});

describe('loadBenchResults', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bench-json-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writeJson = async (c: number, data: unknown): Promise<void> => {
    await mkdir(path.join(dir, `concurrency_${c}`), { recursive: true });
    await writeFile(path.join(dir, `concurrency_${c}`, 'result.json'), JSON.stringify(data));
  };

  it('prefers result.json metrics, keeps text-only metrics and the text flags', async () => {
    await copyFile(fixtureLog('bench_trtllm_srun.log'), path.join(dir, '6_bench.log'));
    await writeJson(4, resultJson(4, 213.4012));
    await writeJson(16, resultJson(16, 301.6999));
    const { blocks, missing } = await loadBenchResults(dir);
    expect(missing).toEqual([]);
    expect(blocks.map((b) => [b.concurrency, b.completed, b.warmup])).toEqual([
      [1, false, true],
      [4, true, false],
      [8, true, false],
      [16, false, false],
    ]);
    expect(blocks[1].metrics.median_ttft_ms).toBe(213.4012); // JSON, not the text's 213.40
    expect(blocks[1].metrics.user_throughput).toBe(200.5); // only in the text
    expect(blocks[2].metrics.median_ttft_ms).toBe(138.13); // no JSON: text
    expect(blocks[3].completed).toBe(false); // JSON exists but the shell never printed done
    expect(blocks[0].metrics.median_ttft_ms).toBe(55.55); // warm-up never takes JSON values
  });

  it('a result.json with no text block is added (complete only if its done line was seen)', async () => {
    await copyFile(fixtureLog('bench_crash_no_block.log'), path.join(dir, '6_bench.log'));
    await writeJson(8, resultJson(8, 140));
    const { blocks, missing } = await loadBenchResults(dir);
    expect(blocks.map((b) => [b.concurrency, b.completed])).toEqual([
      [4, true],
      [8, false],
    ]);
    expect(blocks[1].metrics.median_ttft_ms).toBe(140);
    expect(missing).toEqual([]);
  });

  it('works with result.json files only, and ignores unreadable ones', async () => {
    await writeJson(2, resultJson(2, 10));
    await mkdir(path.join(dir, 'concurrency_3'));
    await writeFile(path.join(dir, 'concurrency_3', 'result.json'), '{"completed": 1,');
    const { blocks } = await loadBenchResults(dir);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ concurrency: 2, completed: true, warmup: false });
  });

  it('an empty dir gives nothing', async () => {
    expect(await loadBenchResults(dir)).toEqual({ blocks: [], missing: [] });
  });
});
