import { describe, expect, it } from 'vitest';
import { pick } from '../../../src/util/pick.js';

describe('pick', () => {
  it('keeps the named fields in the given order and nothing else', () => {
    const row = { verdict: 'regressed', extra: 1, test: 't', delta: null };
    const out = pick(row, ['test', 'delta', 'verdict']);
    expect(JSON.stringify(out)).toBe('{"test":"t","delta":null,"verdict":"regressed"}');
  });
});
