import fs from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { configSchema, schemaPath } from '../../../src/config/index.js';
import { loadText, MINIMAL, repoRoot } from './helpers.js';

const errorsOf = (text: string) => loadText(text).problems.filter((p) => p.severity === 'error');

describe('JSON schema file', () => {
  it('is the shipped schema/disagg-config.schema.json and a valid draft-07 schema', () => {
    expect(schemaPath()).toBe(`${repoRoot}/schema/disagg-config.schema.json`);
    const pkg = JSON.parse(fs.readFileSync(`${repoRoot}/package.json`, 'utf8')) as {
      exports: Record<string, string>;
    };
    expect(pkg.exports['./schema.json']).toBe('./schema/disagg-config.schema.json');
    const schema = configSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(new Ajv({ strict: true, allowUnionTypes: true }).validateSchema(schema)).toBe(true);
  });
});

describe('schema validation', () => {
  it('accepts the minimal config', () => {
    expect(loadText(MINIMAL).problems).toEqual([]);
  });

  it('accepts benchmark.slo with positive ms limits and rejects 0 or an empty slo', () => {
    const withSlo = (slo: string) =>
      MINIMAL.replace('  output_length: 1024\n', `  output_length: 1024\n  slo: ${slo}\n`);
    expect(loadText(withSlo('{ ttft_ms: 500, tpot_ms: 50, e2el_ms: 9000 }')).problems).toEqual([]);
    expect(errorsOf(withSlo('{ ttft_ms: 0 }')).map((p) => p.path)).toEqual(['benchmark.slo.ttft_ms']);
    expect(errorsOf(withSlo('{}')).map((p) => p.path)).toEqual(['benchmark.slo']);
  });

  it('names path, line and types for a string where a number belongs', () => {
    const [e] = errorsOf(MINIMAL.replace('input_length: 1024', 'input_length: 1k'));
    expect(e).toMatchObject({ path: 'benchmark.input_length', line: 10, column: 17, source: 'schema' });
    expect(e.message).toContain('must be number, got string "1k"');
    const [q] = errorsOf(MINIMAL.replace('max_batch_size: 32', 'max_batch_size: "32"'));
    expect(q.path).toBe('worker_config.gen.max_batch_size');
    expect(q.message).toBe('must be number, got string "32" (remove the quotes)');
  });

  it('warns about unknown keys with the closest known key', () => {
    const c = loadText(
      MINIMAL.replace("  concurrency_list: '1 2 4'", "  concurrency_list: '1 2 4'\n  concurency_list: 8"),
    );
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]).toMatchObject({
      severity: 'warning',
      path: 'benchmark.concurency_list',
      line: 10,
      column: 3,
    });
    expect(c.problems[0].message).toContain('did you mean concurrency_list?');
  });

  it('says where a misplaced key belongs', () => {
    const c = loadText(
      MINIMAL.replace('  streaming: true', '  streaming: true\n  metrics: {log_file: x.log}'),
    );
    expect(c.problems[0].message).toContain('it belongs at metadata.metrics');
  });

  it('accepts concurrency_list as a string, an int or a list, and rejects other shapes', () => {
    for (const v of ["'12288'", '12288', '[1, 2, 4]', '1 2 4 8']) {
      expect(
        errorsOf(MINIMAL.replace("'1 2 4'", v).replace('max_batch_size: 32', 'max_batch_size: 20000')),
      ).toEqual([]);
    }
    const [s] = errorsOf(MINIMAL.replace("'1 2 4'", "'1, 2, x'"));
    expect(s.message).toBe(
      'must be a space-separated list of positive integers such as "1 2 4 8", got string "1, 2, x"',
    );
    const [l] = errorsOf(MINIMAL.replace("'1 2 4'", '[1, "2"]'));
    expect(l).toMatchObject({ path: 'benchmark.concurrency_list[1]' });
    const [b] = errorsOf(MINIMAL.replace("'1 2 4'", 'true'));
    expect(b.message).toMatch(
      /^must be a space-separated list .* or a positive integer, or a list of positive integers; got boolean true$/,
    );
  });

  it('checks accuracy datasets: enum, required expected_value, name or dataset_name', () => {
    const bad = errorsOf(
      MINIMAL.replace(
        '      - name: gsm8k\n        expected_value: 0.85',
        '      - dataset_name: gsm8k\n        threshold_type: relative',
      ),
    );
    expect(bad.map((e) => [e.path, e.message])).toEqual([
      ['metadata.accuracy.datasets[0]', 'missing required key "expected_value"'],
      [
        'metadata.accuracy.datasets[0].threshold_type',
        'must be one of "hypothesis_test", "absolute"; got string "relative"',
      ],
    ]);
  });

  it('accepts all top-level accuracy shapes and rejects a wrong task map', () => {
    const shapes = [
      'accuracy:\n  enable_accuracy_test: true\n  model: local-completions\n  tasks: gsm8k\n  model_args_extra: a=1\n',
      'accuracy:\n  enable_accuracy_test: true\n  env_var: {HF_HOME: /x}\n  tasks:\n    gsm8k:\n      model: local-completions\n      model_args_extra: a=1\n      extra_kwargs: {trust_remote_code: true, custom_config: /x.yaml}\n',
      'accuracy:\n  enable_accuracy_test: true\n  tasks: gsm8k\n  num_concurrent: 512\n  max_retries: 3\n  tokenized_requests: false\n  timeout: 1200\n  max_gen_toks: 256\n  max_length: 4096\n',
    ];
    const base = MINIMAL.replace('accuracy:\n  enable_accuracy_test: true\n  tasks: gsm8k\n', '');
    for (const s of shapes) expect(loadText(base + s).problems).toEqual([]);
    const c = loadText(
      base +
        'accuracy:\n  enable_accuracy_test: true\n  tasks:\n    gsm8k:\n      model: 5\n      modle_args_extra: x\n',
    );
    expect(c.problems.map((p) => [p.severity, p.path])).toEqual([
      ['error', 'accuracy.tasks.gsm8k.model'],
      ['warning', 'accuracy.tasks.gsm8k.modle_args_extra'],
    ]);
  });

  it('validates the simulator section', () => {
    const sim = (s: string) => loadText(MINIMAL + 'simulator:\n' + s).problems;
    expect(sim('  time_scale: 0.01\n  faults:\n    hang: true\n')).toEqual([]);
    expect(sim('  faults:\n    hang: {after_s: 5}\n    crash: {worker: gen, index: 0}\n')).toEqual([]);
    expect(sim('  accuracy: 1.5\n')[0]).toMatchObject({
      path: 'simulator.accuracy',
      message: 'must be <= 1, got 1.5',
    });
    expect(sim('  faults:\n    crash: {worker: router}\n')[0].path).toBe('simulator.faults.crash.worker');
    expect(sim('  faults:\n    hang: "yes"\n')[0].message).toBe(
      'must be true/false, or {after_s: seconds}; got string "yes"',
    );
  });

  it('requires metadata, benchmark and worker_config', () => {
    const e = errorsOf('slurm: {partition: x}\n');
    expect(e.map((p) => p.message)).toEqual(
      expect.arrayContaining(['missing required key "metadata"', 'missing required key "worker_config"']),
    );
  });
});
