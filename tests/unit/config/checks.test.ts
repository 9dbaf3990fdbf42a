import { describe, expect, it } from 'vitest';
import { parseConcurrencyList } from '../../../src/config/index.js';
import { loadText, MINIMAL } from './helpers.js';

const checks = (text: string, category: 'perf' | 'accuracy' | 'stress' = 'stress') =>
  loadText(text, { category }).problems.filter((p) => p.source === 'check');

describe('semantic checks', () => {
  it('MTP token budget: max_num_tokens >= max_batch_size × (layers + 1), says by how much', () => {
    const text = MINIMAL.replace(
      '    max_num_tokens: 128\n',
      '    max_num_tokens: 100\n    speculative_config: {decoding_type: MTP, num_nextn_predict_layers: 3}\n',
    );
    const [e] = checks(text);
    expect(e).toMatchObject({
      severity: 'error',
      path: 'worker_config.gen.max_num_tokens',
      line: 22,
      column: 21,
    });
    expect(e.message).toBe(
      'gen max_num_tokens 100 is 28 below max_batch_size 32 × (MTP layers 3 + 1) = 128; raise max_num_tokens to at least 128 or lower max_batch_size',
    );
    expect(checks(text.replace('max_num_tokens: 100', 'max_num_tokens: 128'))).toEqual([]);
  });

  it('streaming must be true', () => {
    expect(checks(MINIMAL.replace('streaming: true', 'streaming: false'))[0]).toMatchObject({
      path: 'benchmark.streaming',
      line: 8,
      message: 'streaming must be true (the benchmark measures streamed tokens), got false',
    });
    expect(checks(MINIMAL.replace('  streaming: true\n', ''))[0].message).toMatch(
      /streaming must be true.*not set/,
    );
  });

  it('ctx max_seq_len > input_length and gen max_seq_len > input + output (wording fixed)', () => {
    const [ctx] = checks(MINIMAL.replace('max_seq_len: 2048', 'max_seq_len: 1000'));
    expect(ctx).toMatchObject({ path: 'worker_config.ctx.max_seq_len', line: 17 });
    expect(ctx.message).toBe(
      'ctx max_seq_len 1000 must be greater than input_length 1024; it is 25 too small',
    );
    const [gen] = checks(MINIMAL.replace('max_seq_len: 2176', 'max_seq_len: 2048'));
    expect(gen.path).toBe('worker_config.gen.max_seq_len');
    expect(gen.message).toBe(
      'gen max_seq_len 2048 must be greater than input_length + output_length = 1024 + 1024 = 2048; it is 1 too small',
    );
  });

  it('uses the old sequence section for lengths', () => {
    const text = MINIMAL.replace('  input_length: 1024\n  output_length: 1024\n', '').concat(
      'sequence:\n  input_length: 4096\n  output_length: 1024\n',
    );
    expect(checks(text).map((p) => p.path)).toEqual([
      'worker_config.ctx.max_seq_len',
      'worker_config.gen.max_seq_len',
    ]);
  });

  it('concurrency against gen max_batch_size, without attention DP', () => {
    const [e, ...rest] = checks(MINIMAL.replace("'1 2 4'", "'16 64'"));
    expect(rest).toEqual([]);
    // Real suites run above the batch size on purpose: a warning by default, an error under strict.
    expect(e).toMatchObject({ severity: 'warning', path: 'benchmark.concurrency_list', line: 9, column: 21 });
    expect(e.message).toBe('concurrency 64 exceeds gen max_batch_size 32 by 32');
    const strict = loadText(MINIMAL.replace("'1 2 4'", "'16 64'"), { strict: true }).problems;
    expect(strict.filter((p) => p.source === 'check')).toEqual([
      { ...e, file: strict[0].file, severity: 'error' },
    ]);
  });

  it('unknown keys: a warning by default, an error under strict', () => {
    const text = MINIMAL.replace('  streaming: true\n', '  streaming: true\n  concurency_list: 4\n');
    const unknown = (strict: boolean) =>
      loadText(text, { strict }).problems.filter((p) => p.message.startsWith('unknown key'));
    expect(unknown(false)).toMatchObject([{ severity: 'warning', path: 'benchmark.concurency_list' }]);
    expect(unknown(true)).toMatchObject([{ severity: 'error', path: 'benchmark.concurency_list' }]);
  });

  it('concurrency against max_batch_size × tensor_parallel_size with attention DP', () => {
    const dp = MINIMAL.replace('enable_attention_dp: false', 'enable_attention_dp: true');
    expect(checks(dp.replace("'1 2 4'", "'128'"))).toEqual([]);
    const [e] = checks(dp.replace("'1 2 4'", '[8, 200]'));
    expect(e).toMatchObject({ path: 'benchmark.concurrency_list[1]', line: 9, column: 25 });
    expect(e.message).toMatch(
      /^concurrency 200 exceeds gen max_batch_size 32 × tensor_parallel_size 4 = 128 by 72 /,
    );
  });

  it('Stress test has no accuracy_config (missing or empty datasets)', () => {
    const noAcc = MINIMAL.replace(
      '  accuracy:\n    datasets:\n      - name: gsm8k\n        expected_value: 0.85\n',
      '',
    );
    const [e] = checks(noAcc);
    expect(e).toMatchObject({ severity: 'error', path: 'metadata.accuracy.datasets', line: 1, column: 1 });
    expect(e.message).toContain('Stress test has no accuracy_config');
    const empty = MINIMAL.replace(
      '    datasets:\n      - name: gsm8k\n        expected_value: 0.85\n',
      '    datasets: []\n',
    );
    expect(checks(empty)[0].message).toMatch(/^Stress test has no accuracy_config: .* is empty/);
    expect(checks(noAcc, 'accuracy')[0].message).toContain('Accuracy test has no accuracy_config');
    expect(checks(noAcc, 'perf')).toEqual([]);
  });

  it('accuracy and stress tests need accuracy.enable_accuracy_test: true', () => {
    const [e] = checks(MINIMAL.replace('enable_accuracy_test: true', 'enable_accuracy_test: false'));
    expect(e).toMatchObject({ path: 'accuracy.enable_accuracy_test', line: 13 });
    expect(
      checks(MINIMAL.replace('enable_accuracy_test: true', 'enable_accuracy_test: false'), 'perf'),
    ).toEqual([]);
  });

  it('warns (not errors) when a value a check needs is missing', () => {
    const c = checks(MINIMAL.replace('    max_batch_size: 32\n', ''));
    expect(c.map((p) => [p.severity, p.message])).toEqual([
      [
        'warning',
        'cannot check concurrency against the batch size: worker_config.gen.max_batch_size is not set',
      ],
    ]);
  });

  it('parses concurrency lists', () => {
    expect(parseConcurrencyList('1 2  4\n8')).toEqual([1, 2, 4, 8]);
    expect(parseConcurrencyList(12288)).toEqual([12288]);
    expect(parseConcurrencyList([1, 2])).toEqual([1, 2]);
    expect(parseConcurrencyList(undefined)).toEqual([]);
  });

  it('benchmark_ratio 0 is accepted where the SA client is off and rejected where it is on', () => {
    const withRatio = (sa: string, ratio: string) =>
      loadText(
        MINIMAL.replace('  streaming: true\n', `  streaming: true\n${sa}  benchmark_ratio: ${ratio}\n`),
      );
    const problems = (l: ReturnType<typeof withRatio>) => l.problems.filter((p) => p.severity === 'error');
    expect(problems(withRatio('  use_nv_sa_benchmark: false\n', '0.0'))).toEqual([]);
    expect(problems(withRatio('', '0'))).toEqual([]);
    const [e] = problems(withRatio('  use_nv_sa_benchmark: true\n', '0.0'));
    expect(e).toMatchObject({ path: 'benchmark.benchmark_ratio', source: 'check', line: 10 });
    expect(e.message).toMatch(
      /must be above 0 with use_nv_sa_benchmark: true .* got 0; .*may be 0 only with use_nv_sa_benchmark: false/,
    );
    expect(problems(withRatio('  use_nv_sa_benchmark: true\n', '0.8'))).toEqual([]);
    // A negative share is nonsense either way: the schema refuses it.
    expect(problems(withRatio('  use_nv_sa_benchmark: false\n', '-1'))[0].source).toBe('schema');
  });
});
