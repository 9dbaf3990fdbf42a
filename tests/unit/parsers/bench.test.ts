import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchBlock, BenchParseResult } from '../../../src/types.js';
import { parseBenchLog, parseBenchText } from '../../../src/parsers/bench.js';
import { cleanLine } from '../../../src/parsers/lines.js';
import { labelToKey } from '../../../src/parsers/bench-labels.js';
import { fixtureLog } from '../../fixtures/paths.js';

/** One metric line as benchmark_serving prints it: `{:<40} {:<10}` (so with trailing spaces). */
const line = (label: string, value: string): string => `${label.padEnd(40)} ${value.padEnd(10)}`;
const BANNER = '============ Serving Benchmark Result ============';
const RULE = '='.repeat(50);

describe('cleanLine', () => {
  it('strips srun -l rank prefixes and CR, nothing else', () => {
    expect(cleanLine('0: Median TTFT (ms):   213.40    ')).toBe('Median TTFT (ms):   213.40    ');
    expect(cleanLine('12: x')).toBe('x');
    expect(cleanLine(' 3: x')).toBe('x');
    expect(cleanLine('0:')).toBe('');
    expect(cleanLine('a line\r')).toBe('a line');
    expect(cleanLine('12:34:56 timestamp')).toBe('12:34:56 timestamp');
    expect(cleanLine('Mean TTFT (ms): 1')).toBe('Mean TTFT (ms): 1');
  });
});

describe('labelToKey', () => {
  it.each([
    ['Successful requests', 'successful_requests'],
    ['Failed requests', 'failed_requests'],
    ['Total failed requests', 'failed_requests'],
    ['Total requests', 'total_requests'],
    ['Benchmark duration (s)', 'duration_s'],
    ['Total generated tokens', 'total_output_tokens'],
    ['Total Token throughput (tok/s)', 'total_token_throughput'],
    ['Total token throughput (tok/s)', 'total_token_throughput'],
    ['Request goodput (req/s)', 'request_goodput'],
    ['Peak output token throughput (tok/s)', 'peak_output_throughput'],
    ['Peak concurrent requests', 'peak_concurrent_requests'],
    ['Maximum request concurrency', 'max_concurrency'],
    ['User throughput (tok/s)', 'user_throughput'],
    ['Mean TTFT (ms)', 'mean_ttft_ms'],
    ['Median TPOT (ms)', 'median_tpot_ms'],
    ['Std Dev ITL (ms)', 'std_itl_ms'],
    ['P99 E2EL (ms)', 'p99_e2el_ms'],
    ['P50 TTFT (ms)', 'p50_ttft_ms'],
    ['P99.9 TTFT (ms)', 'p99_9_ttft_ms'],
    ['Mean Avg Decoded Tokens per Iter', 'mean_avg_decoded_tokens_per_iter'],
    ['Mean Request AR', 'mean_request_ar'],
    ['Total Energy (J)', 'total_energy_j'],
    ['Median Queueing Time (ms)', 'median_queueing_time_ms'],
  ])('%s → %s', (label, key) => {
    expect(labelToKey(label)).toBe(key);
  });
});

describe('parseBenchLog: TRT-LLM log with srun prefixes, warm-up and a crash', () => {
  let result: BenchParseResult;
  let warm: BenchBlock, c4: BenchBlock, c8: BenchBlock, c16: BenchBlock;
  beforeAll(async () => {
    result = await parseBenchLog(fixtureLog('bench_trtllm_srun.log'));
    [warm, c4, c8, c16] = result.blocks;
  });

  it('finds the warm-up block and keeps it apart', () => {
    expect(result.blocks).toHaveLength(4);
    expect(warm.warmup).toBe(true);
    expect(warm.completed).toBe(false);
    // The warm-up ran with default percentile metrics: no E2EL. Its TTFT must not leak into c4.
    expect(warm.metrics.median_ttft_ms).toBe(55.55);
    expect(warm.metrics.median_e2el_ms).toBeUndefined();
  });

  it('binds each block to its concurrency and keeps its own values', () => {
    expect(c4).toMatchObject({ concurrency: 4, completed: true, warmup: false });
    expect(c4.metrics.median_ttft_ms).toBe(213.4);
    expect(c4.metrics.median_e2el_ms).toBe(7582.2);
    expect(c4.metrics).toMatchObject({
      total_requests: 32,
      successful_requests: 32,
      failed_requests: 0,
      duration_s: 41.07,
      total_input_tokens: 32768,
      total_output_tokens: 32768,
      request_throughput: 0.78,
      output_throughput: 798.12,
      total_token_throughput: 1596.24,
      user_throughput: 200.5,
      std_ttft_ms: 42.68,
      max_concurrency: 4,
    });
    expect(c8).toMatchObject({ concurrency: 8, completed: true });
    expect(c8.metrics.median_ttft_ms).toBe(138.13);
    expect(c8.metrics.median_e2el_ms).toBe(7938.94);
  });

  it('reads failed requests (Failed requests:, Total failed requests:, the FAILED banner)', () => {
    expect(c8.metrics.failed_requests).toBe(2);
    expect(c8.metrics.successful_requests).toBe(62);
  });

  it('reports the block whose done line is missing as incomplete', () => {
    expect(c16).toMatchObject({ concurrency: 16, completed: false, warmup: false });
    expect(c16.metrics.median_ttft_ms).toBe(301.7);
    expect(result.missing).toEqual([]);
  });

  it('has all four latency sections with mean/median/std/p99', () => {
    for (const m of ['ttft', 'tpot', 'itl', 'e2el']) {
      for (const s of ['mean', 'median', 'std', 'p99'])
        expect(c4.metrics[`${s}_${m}_ms`]).toBeTypeOf('number');
    }
  });
});

describe('parseBenchLog: other variants', () => {
  it('new vLLM labels: lower-case token throughput, peak, goodput, P50/P90/P99.9, no Std Dev, queueing', async () => {
    const { blocks } = await parseBenchLog(fixtureLog('bench_vllm_new.log'));
    expect(blocks).toHaveLength(1);
    const [b] = blocks;
    // No shell loop: a block closed by its rule is complete, concurrency from the block itself.
    expect(b).toMatchObject({ concurrency: 50, completed: true, warmup: false });
    expect(b.metrics).toMatchObject({
      successful_requests: 49,
      failed_requests: 1,
      max_concurrency: 50,
      request_rate_configured: 10,
      request_goodput: 2.1,
      peak_output_throughput: 1320,
      peak_concurrent_requests: 49,
      total_token_throughput: 7717.46,
      p50_ttft_ms: 910.42,
      p99_9_e2el_ms: 16540.59,
      mean_queueing_time_ms: 12.5,
    });
    expect(b.metrics.std_ttft_ms).toBeUndefined();
    expect(b.metrics.user_throughput).toBeUndefined();
  });

  it('speculative decoding, energy, goodput, CRLF line ends and a failed count after the block', async () => {
    const { blocks } = await parseBenchLog(fixtureLog('bench_trtllm_spec_energy.log'));
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ concurrency: 1, completed: true });
    expect(blocks[0].metrics).toMatchObject({
      request_goodput: 0.75,
      mean_avg_decoded_tokens_per_iter: 2.71,
      std_avg_decoded_tokens_per_iter: 0.12,
      p99_avg_decoded_tokens_per_iter: 2.89,
      total_energy_j: 1234.5678,
      output_tokens_per_s_per_watt: 0.8123,
      total_gpu_power_w: 1009.4,
      failed_requests: 0,
      median_e2el_ms: 1250,
    });
  });

  it('a concurrency that crashed before printing its block is reported missing', async () => {
    const result = await parseBenchLog(fixtureLog('bench_crash_no_block.log'));
    expect(result.blocks).toHaveLength(1);
    expect(result.blocks[0]).toMatchObject({ concurrency: 4, completed: true });
    expect(result.missing).toEqual([8]);
  });

  it('a block cut off mid-way (no closing rule, no done) is incomplete with what it has', async () => {
    const result = await parseBenchLog(fixtureLog('bench_truncated.log'));
    expect(result.blocks).toEqual([
      {
        concurrency: 2,
        completed: false,
        warmup: false,
        metrics: { successful_requests: 16, duration_s: 5.5, mean_ttft_ms: 11.11 },
      },
    ]);
  });
});

describe('parseBenchText edge cases', () => {
  it('absent sections stay absent (no E2EL), N/A values are skipped', () => {
    const text = [
      BANNER,
      line('Successful requests:', '4'),
      line('Mean TTFT (ms):', 'N/A'),
      line('Median TTFT (ms):', '12.50'),
      RULE,
    ].join('\n');
    const { blocks } = parseBenchText(text);
    expect(blocks[0].metrics).toEqual({ successful_requests: 4, median_ttft_ms: 12.5 });
  });

  it('a done line without a preceding announcement binds to the block before it', () => {
    const text = [BANNER, line('Median TTFT (ms):', '1.00'), RULE, 'Benchmark with concurrency 32 done'].join(
      '\n',
    );
    expect(parseBenchText(text).blocks[0]).toMatchObject({ concurrency: 32, completed: true, warmup: false });
  });

  it('an announced concurrency with a done line but no block is missing', () => {
    const text = ['Benchmarking with concurrency 4 ... 32 prompts', 'Benchmark with concurrency 4 done'].join(
      '\n',
    );
    expect(parseBenchText(text)).toEqual({ blocks: [], missing: [4] });
  });

  it('a new banner inside a block closes the previous one', () => {
    const text = [
      BANNER,
      line('Median TTFT (ms):', '1.00'),
      BANNER,
      line('Median TTFT (ms):', '2.00'),
      RULE,
    ].join('\n');
    const { blocks } = parseBenchText(text);
    expect(blocks.map((b) => [b.metrics.median_ttft_ms, b.completed])).toEqual([
      [1, false],
      [2, true],
    ]);
  });

  it('text and stream parsers agree', async () => {
    const { readFile } = await import('node:fs/promises');
    const file = fixtureLog('bench_trtllm_srun.log');
    expect(parseBenchText(await readFile(file, 'utf8'))).toEqual(await parseBenchLog(file));
  });
});
