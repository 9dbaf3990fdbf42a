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

/** The 1-based YAML line each generated line maps to. */
function yamlLines(mappings: string): number[] {
  let src = 0;
  return decodeMappings(mappings).map((seg) => (src += seg[2]) + 1);
}

describe('verdict locations in the YAML', () => {
  const yaml = [
    'metadata:', //                           1
    '  accuracy:', //                         2
    '    datasets:', //                       3
    '      - dataset_name: gsm8k', //         4
    '        expected_value: 0.8', //         5
    '      - name: mmlu', //                  6
    '        tolerance: 0.02', //             7
    '        expected_value: 0.7', //         8
    'benchmark:', //                          9
    '  concurrency_list: "1 4"', //          10
    '',
  ].join('\n');
  const mod = generateModule(entry, ['stress'], yaml, '/r.ts');
  const lines = mod.code.split('\n');
  const mapped = yamlLines(mod.map.mappings);
  const lineOf = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    expect(i, `no generated line with ${needle}`).toBeGreaterThanOrEqual(0);
    return mapped[i];
  };

  it("a failed accuracy gate throws from the line mapped to its dataset's expected_value", () => {
    expect(lineOf('__disaggAt.accuracy["gsm8k"] = (message) => { throw new Error(message); }')).toBe(5);
    expect(lineOf('__disaggAt.accuracy["mmlu"]')).toBe(8);
  });

  it('a perf failure throws from the line mapped to benchmark.concurrency_list', () => {
    expect(lineOf('__disaggAt.perf = ')).toBe(10);
  });

  it('the test body hands the locations to the verdict steps', () => {
    expect(mod.code).toContain('await disaggReport.accuracy(accuracy, __disaggAt)');
    expect(mod.code).toContain('await disaggReport.perf(perf, __disaggAt)');
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
