// The real outputs in tests/fixtures/samples. Missing data fails (fixturePath throws), never skips.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAccuracyLog } from '../../../src/parsers/accuracy.js';
import { parseBenchLog, parseBenchText } from '../../../src/parsers/bench.js';
import { fixturePath } from '../../fixtures/paths.js';

describe('real benchmark samples', () => {
  it('TRT-LLM docs sample (older format, trailing spaces stripped, Request AR)', async () => {
    const { blocks, missing } = await parseBenchLog(fixturePath('samples', 'trtllm_bench_sample.txt'));
    expect(missing).toEqual([]);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ concurrency: null, completed: true, warmup: false });
    expect(blocks[0].metrics).toEqual({
      successful_requests: 1,
      duration_s: 1.64,
      total_input_tokens: 1024,
      total_output_tokens: 1024,
      request_throughput: 0.61,
      output_throughput: 622.56,
      total_token_throughput: 1245.12,
      user_throughput: 623.08,
      mean_request_ar: 0.998,
      median_request_ar: 0.998,
      mean_ttft_ms: 12.83,
      median_ttft_ms: 12.83,
      p99_ttft_ms: 12.83,
      mean_tpot_ms: 1.59,
      median_tpot_ms: 1.59,
      p99_tpot_ms: 1.59,
      mean_itl_ms: 1.59,
      median_itl_ms: 1.59,
      p99_itl_ms: 1.77,
      mean_e2el_ms: 1643.44,
      median_e2el_ms: 1643.44,
      p99_e2el_ms: 1643.44,
    });
  });

  it('vLLM sample (old format, padded, no E2EL)', async () => {
    const { blocks } = await parseBenchLog(fixturePath('samples', 'vllm_bench_sample.txt'));
    expect(blocks).toHaveLength(1);
    const m = blocks[0].metrics;
    expect(m).toMatchObject({
      successful_requests: 16,
      request_rate_configured: 10,
      duration_s: 18.65,
      total_input_tokens: 127952,
      total_output_tokens: 16000,
      total_token_throughput: 7717.46,
      median_ttft_ms: 910.42,
      p99_itl_ms: 20.69,
    });
    expect(Object.keys(m).filter((k) => k.includes('e2el'))).toEqual([]);
  });

  it('the samples wrapped with srun prefixes and the shell loop parse the same', async () => {
    const text = await readFile(fixturePath('samples', 'trtllm_bench_sample.txt'), 'utf8');
    const wrapped = [
      'Benchmarking with concurrency 1 ... 8 prompts',
      ...text.trimEnd().split('\n'),
      'Benchmark with concurrency 1 done',
    ]
      .map((l) => `0: ${l}`)
      .join('\n');
    const plain = parseBenchText(text).blocks[0].metrics;
    expect(parseBenchText(wrapped).blocks).toEqual([
      { concurrency: 1, completed: true, warmup: false, metrics: plain },
    ]);
  });
});

describe('real lm-eval samples', () => {
  it('gsm8k table: both filters, including the strict-match continuation row', async () => {
    const runs = await parseAccuracyLog(fixturePath('samples', 'lmeval_gsm8k_sample.txt'));
    expect(runs).toHaveLength(1);
    expect(runs[0].header).toMatch(/^local-completions \(model=deepseek-ai\/DeepSeek-V3.2-Exp,/);
    expect(runs[0].results).toEqual([
      {
        task: 'gsm8k',
        filter: 'flexible-extract',
        metric: 'exact_match',
        value: 0.9591,
        stderr: 0.0055,
        n_shot: 5,
        version: '3',
      },
      {
        task: 'gsm8k',
        filter: 'strict-match',
        metric: 'exact_match',
        value: 0.9591,
        stderr: 0.0055,
        n_shot: 5,
        version: '3',
      },
    ]);
  });

  it('short values (`|  0.7|`) give the value, not the stderr', async () => {
    const runs = await parseAccuracyLog(fixturePath('samples', 'lmeval_gsm8k_short_values_sample.txt'));
    expect(runs[0].header).toBeUndefined();
    expect(runs[0].results.map((r) => [r.filter, r.value, r.stderr])).toEqual([
      ['flexible-extract', 0.7, 0.1051],
      ['strict-match', 0.6, 0.1124],
    ]);
  });
});
