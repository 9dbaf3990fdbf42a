// Issue 12 items 3 and 7: each hostile file fails alone, fast, with a message naming the file and what
// to do; the good config beside it still loads and lists (library, `disagg validate` and `disagg list`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { run as list } from '../../../src/cli/list.js';
import { run as validate } from '../../../src/cli/validate.js';
import { entryForFile, formatProblem, loadAll, loadConfig, parseYaml } from '../../../src/config/index.js';
import { resolvePlaceholders } from '../../../src/config/placeholders.js';
import { resolveSettings } from '../../../src/settings/resolve.js';
import { HOSTILE_FILES, writeHostileTree } from '../../fixtures/hostile-configs.js';

let root: string;
let dir: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-hostile-'));
  dir = writeHostileTree(root);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('each hostile file fails alone, within 10 s, saying what is wrong', () => {
  for (const h of HOSTILE_FILES) {
    it(
      h.name,
      () => {
        const file = path.join(dir, h.name);
        const started = performance.now();
        const loaded = loadConfig(entryForFile(file, root));
        const seconds = (performance.now() - started) / 1000;
        const errors = loaded.problems.filter((p) => p.severity === 'error');
        expect(errors.length, JSON.stringify(errors)).toBeGreaterThanOrEqual(1);
        expect(errors[0].file).toBe(file);
        expect(formatProblem(errors[0])).toMatch(h.expect);
        expect(seconds).toBeLessThan(10);
      },
      20_000,
    );
  }

  it('the byte offset of invalid UTF-8 comes with its line and column', () => {
    const loaded = loadConfig(entryForFile(path.join(dir, 'bad-utf8.yaml'), root));
    expect(loaded.problems[0]).toMatchObject({ line: 2, column: 17 });
  });

  it('a config within the limits but given a smaller maxBytes fails on size, naming how to raise it', () => {
    const loaded = loadConfig(entryForFile(path.join(dir, 'good.yaml'), root), { limits: { maxBytes: 100 } });
    expect(formatProblem(loaded.problems[0])).toMatch(
      /good\.yaml:1:1 \(root\): the file is \d+ bytes, more than the limit of 100 bytes; .*option maxConfigBytes or env DISAGG_MAX_CONFIG_BYTES/,
    );
  });
});

describe('limits are counted per map, not per file', () => {
  it('12,000 list items of one key each are not one map of 12,000 keys', () => {
    const text =
      'items:\n' + Array.from({ length: 12_000 }, (_, i) => `  - name: n${i}\n    v: ${i}`).join('\n');
    const r = parseYaml(text, 'items.yaml');
    expect(r.problems).toEqual([]);
    expect((r.value as { items: unknown[] }).items).toHaveLength(12_000);
  });

  it('a flow map with too many keys is caught after parsing, at the map', () => {
    const text = `a: {${Array.from({ length: 10_001 }, (_, i) => `k${i}: ${i}`).join(', ')}}\n`;
    const r = parseYaml(text, 'flow.yaml');
    expect(r.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '1:4 a: a map has 10001 keys, more than the limit of 10000; split the file or remove the repeated/oversized part',
    ]);
  });
});

describe('the good configs beside them', () => {
  it('load clean, including the one named n%x%j.yaml; the symlink loops are skipped with a notice', () => {
    const all = loadAll(root);
    const byStem = new Map(all.configs.map((c) => [c.stem, c]));
    for (const stem of ['good', 'n%x%j']) {
      const c = byStem.get(stem);
      expect(
        c?.problems.filter((p) => p.severity === 'error'),
        stem,
      ).toEqual([]);
      expect(c?.config.metadata?.model_name).toBe('tiny-sim');
    }
    for (const h of HOSTILE_FILES) {
      expect(byStem.get(h.name.replace(/\.yaml$/, ''))?.problems.length, h.name).toBeGreaterThan(0);
    }
    expect(all.notices.join('\n')).toMatch(/Skipped 2 symlink loop\(s\).*disagg\/stress\/loop.*loop-root/);
  }, 300_000);
});

describe('disagg validate and disagg list on the tree', () => {
  const call = async (cmd: typeof list, argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {}, cwd: root };
    const code = await cmd(argv, io);
    return { code, stdout, stderr };
  };

  it('validate names every hostile file with its error and passes the good ones', async () => {
    const r = await call(validate, [root, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { configs: Array<{ file: string; errors: unknown[] }> };
    const files = JSON.stringify(out);
    for (const h of HOSTILE_FILES) expect(files, h.name).toContain(h.name);
    expect(files).toContain('good.yaml');
  }, 300_000);

  it('list shows the good configs and every hostile one', async () => {
    const r = await call(list, ['--config-dir', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('disagg_stress_good');
    expect(r.stdout).toContain('disagg_stress_n%x%j');
    for (const h of HOSTILE_FILES)
      expect(r.stdout).toContain(`disagg_stress_${h.name.replace(/\.yaml$/, '')}`);
  }, 300_000);
});

describe('limits settings', () => {
  it('DISAGG_MAX_CONFIG_BYTES overrides the maxConfigBytes option; bad values are refused', () => {
    expect(resolveSettings({}, {}, root).configLimits.maxBytes).toBe(1024 * 1024);
    expect(resolveSettings({ maxConfigBytes: 2048 }, {}, root).configLimits.maxBytes).toBe(2048);
    expect(
      resolveSettings({ maxConfigBytes: 2048 }, { DISAGG_MAX_CONFIG_BYTES: '4096' }, root).configLimits
        .maxBytes,
    ).toBe(4096);
    expect(() => resolveSettings({}, { DISAGG_MAX_CONFIG_BYTES: 'lots' }, root)).toThrow(
      /DISAGG_MAX_CONFIG_BYTES=lots is not a whole number/,
    );
    expect(() => resolveSettings({ maxConfigBytes: 0 }, {}, root)).toThrow(/maxConfigBytes/);
  });
});

describe('placeholder resolution copies without multiplying shared values', () => {
  it('an aliased object stays one object and an aliased big string is not copied per use', () => {
    const shared = { x: 'y'.repeat(1_000_000) };
    const config = { metadata: { a: shared, b: shared }, benchmark: { list: Array(5000).fill(shared.x) } };
    const before = process.memoryUsage().heapUsed;
    // Keys the schema does not know (a, b, list) are fine here: only the copying is under test.
    const r = resolvePlaceholders(config as unknown as Parameters<typeof resolvePlaceholders>[0], {});
    const grownMb = (process.memoryUsage().heapUsed - before) / 1e6;
    const meta = r.config.metadata as { a: unknown; b: unknown };
    expect(meta.a).toBe(meta.b);
    expect(meta.a).not.toBe(shared);
    // structuredClone wrote 5,000 copies of the 1 MB string (5 GB); a copy by reference is a few KB.
    expect(grownMb).toBeLessThan(200);
  });
});
