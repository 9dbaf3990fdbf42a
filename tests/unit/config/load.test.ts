import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll, parseYaml } from '../../../src/config/index.js';
import { fixtures, loadText, MINIMAL } from './helpers.js';

describe('parseYaml positions', () => {
  const text = 'a:\n  b:\n    - x\n    - y: 1\n  c: 2\nd:\n';
  const p = parseYaml(text, 'f.yaml');

  it('locates values and keys (1-based)', () => {
    expect(p.locate(['a', 'b', 1, 'y'])).toEqual({ line: 4, column: 10 });
    expect(p.locate(['a', 'c'], 'key')).toEqual({ line: 5, column: 3 });
    expect(p.locate(['a', 'b', 0])).toEqual({ line: 3, column: 7 });
  });

  it('falls back to the deepest existing node, and to the key of an empty value', () => {
    expect(p.locate(['a', 'missing', 'deeper'])).toEqual({ line: 1, column: 1 });
    expect(p.locate(['a', 'b', 7])).toEqual({ line: 2, column: 3 });
    expect(p.locate(['d'])).toEqual({ line: 6, column: 1 });
  });

  it('reports syntax errors with path and position, never throws', () => {
    const bad = parseYaml('a: 1\nb:\n  c: [1, 2\n', 'bad.yaml');
    expect(bad.value).toBeUndefined();
    expect(bad.problems[0]).toMatchObject({ severity: 'error', file: 'bad.yaml', source: 'yaml' });
    expect(bad.problems[0].message).toMatch(/^YAML syntax error: /);
  });

  it('reports duplicate keys', () => {
    const dup = parseYaml('a: 1\na: 2\n', 'dup.yaml');
    expect(dup.problems[0]).toMatchObject({ line: 2, column: 1, severity: 'error' });
  });
});

describe('loadConfig', () => {
  it('resolves anchors, aliases and merge keys; positions follow aliases', () => {
    const anchors = loadAll(path.join(fixtures, 'tree')).configs.find((c) => c.stem === 'anchors');
    expect(anchors?.problems).toEqual([]);
    expect(anchors?.config.worker_config?.gen).toEqual({
      tensor_parallel_size: 2,
      max_batch_size: 16,
      max_num_tokens: 64,
      max_seq_len: 4096,
    });
    expect(anchors?.config.worker_config?.ctx).toMatchObject({ max_batch_size: 8 });
  });

  it('turns an unresolvable alias, an empty file and a non-mapping into problems', () => {
    expect(loadText('a: *nope\n').problems[0].message).toMatch(/YAML/);
    expect(loadText('').problems[0].message).toMatch(/file is empty/);
    expect(loadText('- 1\n- 2\n').problems[0]).toMatchObject({
      path: '(root)',
      message: 'must be a mapping (key: value pairs), got a list',
    });
  });

  it('passes worker_config.ctx/gen through untouched and without warnings', () => {
    const c = loadText(
      MINIMAL.replace('    max_seq_len: 2048\n', '    max_seq_len: 2048\n    brand_new_option: {x: [1]}\n'),
    );
    expect(c.problems).toEqual([]);
    expect(c.config.worker_config?.ctx).toEqual({ max_seq_len: 2048, brand_new_option: { x: [1] } });
  });

  it('hashes the file bytes plus the env values it resolved', () => {
    const text = MINIMAL + 'slurm:\n  partition: <partition>\n';
    const a = loadText(text, { name: 'h', vars: { SLURM_PARTITION: 'p1' } });
    const b = loadText(text, { name: 'h', vars: { SLURM_PARTITION: 'p1', UNRELATED: 'x' } });
    const c = loadText(text, { name: 'h', vars: { SLURM_PARTITION: 'p2' } });
    const d = loadText(text + '# comment\n', { name: 'h', vars: { SLURM_PARTITION: 'p1' } });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    expect(d.hash).not.toBe(a.hash);
  });
});
