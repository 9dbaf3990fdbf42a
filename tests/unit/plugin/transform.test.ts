import { describe, expect, it } from 'vitest';
import {
  generateFolderModule,
  generateModule,
  generateVerdictModule,
  VERDICT_QUERY,
} from '../../../src/plugin/transform.js';
import type { ConfigEntry } from '../../../src/types.js';
import { VERDICT_YAML } from './verdict-yaml.js';

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
      `disaggTest("disagg_stress_x", { tags: ["stress", "disagg"] }, async ({ perf, accuracy, disaggConfig, disaggReport })`,
    );
    expect(mod.code).toContain(`import { disaggTest } from "/pkg/fixtures/index.ts";`);
    // The static collector reads tags only from identifier keys, never from JSON.stringify output.
    expect(mod.code).not.toContain('"tags"');
  });

  it('uses only the fixtures its category needs', () => {
    const perf = generateModule({ ...entry, category: 'perf' }, ['perf'], yaml, '/r.ts');
    expect(perf.code).toContain('async ({ perf, disaggConfig, disaggReport })');
    const acc = generateModule({ ...entry, category: 'accuracy' }, ['accuracy'], yaml, '/r.ts');
    expect(acc.code).toContain('async ({ accuracy, disaggConfig, disaggReport })');
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

/** A config with two gates: entries on lines 7 and 10 (the second under a lone `-`). */
const GATES_YAML = [
  'metadata:', //                             1
  '  model_name: x', //                       2
  'benchmark:', //                            3
  '  concurrency_list: "1 4"', //             4
  'gates:', //                                5
  '  # throughput must not regress', //       6
  '  - metric: output_throughput', //         7
  '    history: true', //                     8
  '  -', //                                   9
  '    metric: p99_ttft_ms', //              10
  '    limit: 2000', //                      11
  '', //                                     12
  'simulator:', //                           13
  '  time_scale: 1', //                      14
  '',
].join('\n');

/** The 1-based YAML line each generated line maps to. */
function yamlLines(mappings: string): number[] {
  let src = 0;
  return decodeMappings(mappings).map((seg) => (src += seg[2]) + 1);
}

describe('the verdict module of a YAML (loaded when a verdict fails)', () => {
  const yaml = VERDICT_YAML;
  const mod = generateVerdictModule(entry.file, yaml);
  const lines = mod.code.split('\n');
  const mapped = yamlLines(mod.map.mappings);
  const lineOf = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    expect(i, `no generated line with ${needle}`).toBeGreaterThanOrEqual(0);
    return mapped[i];
  };

  it('maps a thrower to every concurrency_list and expected_value key line, at the key', () => {
    expect(lineOf('lines[5] = function verdict(message) { throw new Error(message); }')).toBe(5);
    expect(lineOf('lines[8] = ')).toBe(8);
    expect(lineOf('lines[10] = ')).toBe(10);
    expect(lines.filter((l) => l.startsWith('lines['))).toHaveLength(3);
    const segs = decodeMappings(mod.map.mappings);
    let col = 0;
    const columns = segs.map((seg) => (col += seg[3]) + 1);
    expect(columns[lines.findIndex((l) => l.startsWith('lines[5]'))]).toBe(9);
    expect(columns[lines.findIndex((l) => l.startsWith('lines[10]'))]).toBe(3);
    expect(mod.map.sources).toEqual([entry.file]);
  });

  it('keeps a thrower at the first key for keys the scan cannot place', () => {
    expect(lineOf('export const test = ')).toBe(1);
  });

  it('finds keys written as list items or quoted', () => {
    const m = generateVerdictModule(entry.file, 'a:\n  - expected_value: 1\n  "concurrency_list": "1"\n');
    expect(m.code).toContain('lines[2] = ');
    expect(m.code).toContain('lines[3] = ');
  });

  it('maps a thrower to every line of the gates: block, at its first character after `- `', () => {
    const m = generateVerdictModule(entry.file, GATES_YAML);
    const gen = m.code.split('\n');
    const srcLines = yamlLines(m.map.mappings);
    const segs = decodeMappings(m.map.mappings);
    let col = 0;
    const columns = segs.map((seg) => (col += seg[3]) + 1);
    const at = (line: number) => {
      const i = gen.findIndex((l) => l.startsWith(`lines[${line}] = `));
      return i < 0 ? undefined : [srcLines[i], columns[i]];
    };
    expect(at(5)).toEqual([5, 1]); // gates: (a flow list would be all on it)
    expect(at(7)).toEqual([7, 5]); // - metric: output_throughput
    expect(at(8)).toEqual([8, 5]);
    expect(at(10)).toEqual([10, 5]); // metric: under a lone `-`
    expect(at(11)).toEqual([11, 5]);
    // Not the comment, the lone dash, the blank line, nor the keys after the block.
    for (const line of [6, 9, 12, 13, 14]) expect(at(line), `line ${line}`).toBeUndefined();
    expect(gen.filter((l) => l.startsWith('lines['))).toHaveLength(6); // + concurrency_list on line 4
  });

  it("every generated test loads its YAML's verdict module for its verdict steps", () => {
    const test = generateModule(entry, ['stress'], yaml, '/r.ts');
    const at = `{ config: disaggConfig, load: () => import(${JSON.stringify(entry.file + VERDICT_QUERY)}) }`;
    expect(test.code).toContain(`await disaggReport.accuracy(accuracy, ${at})`);
    expect(test.code).toContain(`await disaggReport.perf(perf, ${at})`);
  });

  it('the test module reads nothing but the text it is given (a file that is not YAML still becomes its test)', () => {
    const m = generateModule(entry, ['stress'], 'metadata: [unclosed\n\tbad: :\n', '/r.ts');
    expect(m.code).toContain('disaggTest("disagg_stress_x"');
  });
});

describe('a folder module (testModules: folder)', () => {
  const other: ConfigEntry = {
    ...entry,
    file: '/cfg/disagg/stress/y.yaml',
    stem: 'y',
    testId: 'disagg_stress_y',
  };
  const code = generateFolderModule(
    'stress',
    [
      { entry, tags: ['stress', 'disagg'] },
      { entry: other, tags: ['stress', 'disagg'] },
    ],
    '/r.ts',
  );

  it('holds one literal test per config, each naming its YAML in its meta, run concurrently', () => {
    expect(code).toContain(`describe("stress", { concurrent: true }, () => {`);
    for (const e of [entry, other]) {
      expect(code).toContain(
        `disaggTest(${JSON.stringify(e.testId)}, { tags: ["stress", "disagg"], meta: { disaggConfigFile: ${JSON.stringify(e.file)} } }, async ({ perf, accuracy, disaggConfig, disaggReport })`,
      );
      expect(code).toContain(`import(${JSON.stringify(e.file + VERDICT_QUERY)})`);
    }
    expect(code.match(/disaggTest\(/g)).toHaveLength(2);
  });
});
