import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeMetrics, type RequestResult } from '../../../src/sim/bench-client.js';
import { tableRows } from '../../../src/sim/evaluator.js';
import { center, formatBenchBlock, formatLmEvalTable, lmEvalHeader } from '../../../src/sim/log-writers.js';
import { fixturePath } from '../../fixtures/paths.js';

// The original framework's perf regex (TRT-LLM disagg utils/config_loader.py), VERBOSE spaces unescaped for JS.
const PERF_RE =
  /^.*?Median TTFT \(ms\):\s+([0-9.]+).*?$\n(?:.*\n)*?^.*?Median E2EL \(ms\):\s+([0-9.]+).*?$\n(?:.*\n)*?^.*?Benchmark with concurrency (\d+) done/gm;
const FAILED_RE = /Total failed requests:\s*(\d+)/g;
const TOTAL_RE = /Total requests:\s*(\d+)/g;

function lastMatch(re: RegExp, text: string): string | undefined {
  return [...text.matchAll(re)].pop()?.[1];
}

function result(ttft: number, latency: number, out: number, ok = true): RequestResult {
  return {
    success: ok,
    error: ok ? '' : 'HTTP 500: x',
    promptLen: 100,
    outputLen: ok ? out : 0,
    ttft,
    latency,
    itl: ok ? [5, 6] : [],
    avgDecoded: 0,
  };
}

function benchLog(prefix: string): string {
  const blocks: string[] = [];
  for (const [c, ttft, failed] of [
    [4, 213.4, 0],
    [8, 138.13, 2],
  ] as const) {
    const rs = [result(ttft, 7582.2, 1024), result(ttft, 7582.2, 1024)];
    for (let i = 0; i < failed; i++) rs.push(result(0, 0, 0, false));
    blocks.push(`Benchmarking with concurrency ${c} ... ${rs.length} prompts`);
    if (failed > 0) blocks.push(`Total failed requests: ${failed}`);
    blocks.push(formatBenchBlock(computeMetrics(rs, 10)).trimEnd());
    blocks.push(`Benchmark with concurrency ${c} done`);
  }
  return (
    blocks
      .flatMap((b) => b.split('\n'))
      .map((l) => prefix + l)
      .join('\n') + '\n'
  );
}

describe('benchmark_serving block', () => {
  it('pads labels to 40 and values to 10 with 2 decimals, leaving trailing spaces', () => {
    const text = formatBenchBlock(computeMetrics([result(12.834, 1643.44, 1024)], 1.64));
    const lines = text.split('\n');
    expect(lines[0]).toBe('============ Serving Benchmark Result ============');
    expect(lines).toContain(`Successful requests:${' '.repeat(21)}1${' '.repeat(9)}`);
    expect(lines).toContain(`Mean TTFT (ms):${' '.repeat(26)}12.83${' '.repeat(5)}`);
    expect(lines).toContain('---------------Time to First Token----------------');
    expect(lines).toContain('-----Time per Output Token (excl. 1st token)------');
    expect(lines).toContain('---------------Inter-token Latency----------------');
    expect(lines).toContain('----------------End-to-end Latency----------------');
    expect(lines.filter((l) => l.startsWith('Std Dev '))).toHaveLength(4);
    expect(lines.filter((l) => l.startsWith('P99 '))).toHaveLength(4);
    expect(lines[lines.length - 2]).toBe('='.repeat(50));
    expect(text).not.toContain('FAILED REQUESTS');
    expect(center('Avg Decoded Tokens per Iter', '-')).toBe(
      '-----------Avg Decoded Tokens per Iter------------',
    );
  });

  it('parses with the original regexes, with and without srun "0: " prefixes', () => {
    for (const prefix of ['', '0: ']) {
      const log = benchLog(prefix);
      const tuples = [...log.matchAll(PERF_RE)].map((m) => [m[1], m[2], m[3]]);
      expect(tuples).toEqual([
        ['213.40', '7582.20', '4'],
        ['138.13', '7582.20', '8'],
      ]);
      expect(lastMatch(FAILED_RE, log)).toBe('2');
      expect(lastMatch(TOTAL_RE, log)).toBe('4');
      expect(log).toContain('=======================!FAILED REQUESTS!=======================');
    }
  });
});

describe('lm-eval table', () => {
  it('reproduces the real gsm8k table byte for byte', () => {
    const sample = readFileSync(fixturePath('samples', 'lmeval_gsm8k_sample.txt'), 'utf8').split('\n');
    const table = formatLmEvalTable(
      tableRows('gsm8k', {
        flexible: { value: 0.9591, stderr: 0.0055 },
        strict: { value: 0.9591, stderr: 0.0055 },
      }),
    );
    expect(table.trimEnd().split('\n')).toEqual(sample.slice(1, 5));
    expect(
      lmEvalHeader(
        'local-completions',
        'model=deepseek-ai/DeepSeek-V3.2-Exp,base_url=http://127.0.0.1:8000/v1/completions,num_concurrent=100,max_retries=3,tokenized_requests=False',
      ),
    ).toBe(sample[0]);
  });
});
