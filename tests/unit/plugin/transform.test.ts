import { describe, expect, it } from 'vitest';
import { generateModule, yamlSyntaxError } from '../../../src/plugin/transform.js';
import type { ConfigEntry } from '../../../src/types.js';

const entry: ConfigEntry = {
  file: '/cfg/disagg/stress/x.yaml',
  relFile: 'disagg/stress/x.yaml',
  testType: 'disagg',
  category: 'stress',
  stem: 'x',
  testId: 'disagg_stress_x',
};

function decodeMappings(mappings: string): number[][] {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return mappings.split(';').map((seg) => {
    const values: number[] = [];
    let shift = 0;
    let value = 0;
    for (const ch of seg) {
      const digit = B64.indexOf(ch);
      value += (digit & 31) << shift;
      if (digit & 32) shift += 5;
      else {
        values.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
    }
    return values;
  });
}

describe('generateModule', () => {
  const yaml = '# comment\n\nmetadata:\n  model_name: m\n';
  const mod = generateModule(entry, ['stress', 'disagg'], yaml, '/pkg/fixtures/index.ts');

  it('emits literal describe/disaggTest calls the static collector can read', () => {
    expect(mod.code).toContain(`describe("stress", () => {`);
    expect(mod.code).toContain(
      `disaggTest("disagg_stress_x", { tags: ["stress", "disagg"] }, async ({ perf, accuracy, disaggReport })`,
    );
    expect(mod.code).toContain(`import { disaggTest } from "/pkg/fixtures/index.ts";`);
    // The static collector reads tags only from identifier keys, never from JSON.stringify output.
    expect(mod.code).not.toContain('"tags"');
  });

  it('uses only the fixtures its category needs', () => {
    const perf = generateModule({ ...entry, category: 'perf' }, ['perf'], yaml, '/r.ts');
    expect(perf.code).toContain('async ({ perf, disaggReport })');
    const acc = generateModule({ ...entry, category: 'accuracy' }, ['accuracy'], yaml, '/r.ts');
    expect(acc.code).toContain('async ({ accuracy, disaggReport })');
  });

  it('maps the test call to the first YAML key line', () => {
    const lines = mod.code.split('\n');
    const testLine = lines.findIndex((l) => l.includes('disaggTest("'));
    // Accumulate the relative source-line deltas up to the test's generated line.
    const segs = decodeMappings(mod.map.mappings);
    let srcLine = 0;
    for (let i = 0; i <= testLine; i++) srcLine += segs[i][2];
    expect(srcLine + 1).toBe(3);
    expect(mod.map.sources).toEqual([entry.file]);
    expect(mod.map.sourcesContent).toEqual([yaml]);
  });
});

describe('yamlSyntaxError', () => {
  it('returns the first error with its 1-based position', () => {
    const err = yamlSyntaxError('metadata:\n  a: [1, 2\nb: 3\n');
    expect(err).toBeDefined();
    expect(err?.line).toBeGreaterThanOrEqual(2);
    expect(err?.message).toBeTruthy();
  });
  it('returns undefined for valid YAML', () => {
    expect(yamlSyntaxError('a: 1\n')).toBeUndefined();
  });
});
