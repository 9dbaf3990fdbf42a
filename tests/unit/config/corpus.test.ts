// The real TensorRT-LLM corpus (tests/fixtures/trtllm) must load unchanged: no schema errors, original ids.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyTestList,
  discoverConfigs,
  entryForFile,
  loadAll,
  loadConfig,
  makeEntry,
  parseTestListLine,
  pytestMethodFor,
  readTestList,
  supportedGpus,
} from '../../../src/config/index.js';
import { resolveConfigDir } from '../../../src/settings/resolve.js';
import type { Category, LoadedConfig } from '../../../src/types.js';
import { fixturePath } from '../../fixtures/paths.js';
import { repoRoot } from './helpers.js';

const trtllm = fixturePath('trtllm'); // throws (fails the file) when the corpus is missing
const configDir = resolveConfigDir(
  'stress-configs',
  { DISAGG_CONFIG_DIR: path.join(trtllm, 'test_configs') },
  repoRoot,
);

/** Expected ids computed independently from the file tree. */
function expectedIds(): string[] {
  const ids: string[] = [];
  for (const type of fs.readdirSync(configDir)) {
    const typeDir = path.join(configDir, type);
    if (!fs.statSync(typeDir).isDirectory()) continue;
    for (const cat of ['perf', 'accuracy', 'stress', 'perf-sanity']) {
      const dir = path.join(typeDir, cat);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir))
        if (f.endsWith('.yaml')) ids.push(`${type}_${cat}_${f.slice(0, -5)}`);
    }
  }
  return ids.sort();
}

const schemaErrors = (c: LoadedConfig) =>
  c.problems.filter((p) => p.severity === 'error' && (p.source === 'schema' || p.source === 'yaml'));

describe('TensorRT-LLM corpus', () => {
  const gb200 = loadAll(configDir, { gpuType: 'GB200' });

  it('discovers every perf/accuracy/stress config with the original test ids, and perf-sanity as perf', () => {
    expect(gb200.configs.map((c) => c.testId).sort()).toEqual(expectedIds());
    expect(gb200.configs).toHaveLength(48);
    expect(gb200.configs.map((c) => c.testId)).toContain(
      'disagg_stress_deepseek-r1-fp4_1k1k_ctx2_gen1_dep48_bs16_eplb288_mtp3_ccb-DEFAULT',
    );
    expect(gb200.notices).toEqual([]);
  });

  it('the 7 upstream perf-sanity configs are perf tests named disagg_perf-sanity_<stem> and validate', () => {
    const sanity = gb200.configs.filter((c) => c.relFile.startsWith('disagg/perf-sanity/'));
    expect(sanity).toHaveLength(7);
    for (const c of sanity) {
      expect(c).toMatchObject({ category: 'perf', folder: 'perf-sanity', testType: 'disagg' });
      expect(c.testId).toBe(`disagg_perf-sanity_${c.stem}`);
      // benchmark_ratio 0.0 with use_nv_sa_benchmark false, no accuracy datasets: no error either way.
      expect(c.config.benchmark).toMatchObject({ benchmark_ratio: 0, use_nv_sa_benchmark: false });
      expect(
        c.problems.filter((p) => p.severity === 'error'),
        c.relFile,
      ).toEqual([]);
      // Named explicitly (disagg validate/dry-run), a file gets the same entry as from discovery.
      expect(entryForFile(c.file)).toMatchObject({ category: 'perf', testId: c.testId });
    }
    // Upstream's perf-sanity test-list ids select them (with or without the benchmark mode).
    const stem = sanity[0].stem;
    const { selected, unmatched } = applyTestList(gb200.configs, [
      `perf/test_perf_sanity.py::test_e2e[disagg_upload-e2e-${stem}] TIMEOUT (90)`,
      `test_perf_sanity.py::test_e2e[disagg-${sanity[1].stem}]`,
      `disagg_perf-sanity_${sanity[2].stem}`,
      `test_disagg.py::TestDisaggBenchmark::test_stress[disagg_perf-sanity_${sanity[3].stem}]`,
    ]);
    expect(selected.map((c) => c.stem).sort()).toEqual([stem, sanity[1].stem, sanity[2].stem].sort());
    expect(unmatched).toHaveLength(1);
  });

  it('loads with GPU_TYPE=GB200 without schema errors or warnings; only GB300-only configs skipped', () => {
    for (const c of gb200.configs) {
      expect(schemaErrors(c), c.relFile).toEqual([]);
      // Over-concurrency is a warning by default (real suites do it on purpose): see validate-corpus.test.ts.
      // perf-sanity configs set no max_seq_len: the length checks say they cannot check.
      expect(
        c.problems.filter(
          (p) =>
            p.severity === 'warning' &&
            !/exceeds gen max_batch_size/.test(p.message) &&
            !(c.folder === 'perf-sanity' && /cannot check .*max_seq_len is not set/.test(p.message)),
        ),
        c.relFile,
      ).toEqual([]);
      const gpus = supportedGpus(c.config);
      if (gpus.includes('GB200')) expect(c.skipReason, c.relFile).toBeUndefined();
      else expect(c.skipReason, c.relFile).toBe(`not supported on GB200 (supported: ${gpus.join(', ')})`);
    }
    expect(gb200.configs.filter((c) => !c.skipReason).length).toBeGreaterThan(30);
  });

  it('skips every config on H100 with a reason', () => {
    const h100 = loadAll(configDir, { gpuType: 'H100' });
    for (const c of h100.configs)
      expect(c.skipReason, c.relFile).toMatch(/^not supported on H100 \(supported: (GB[23]00|B200)/);
  });

  it('loads the older and other versions of configs without schema errors', () => {
    const files = ['older_versions', 'other_versions'].flatMap((d) => {
      const out: string[] = [];
      const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) walk(p);
          else if (/\.ya?ml@/.test(e.name)) out.push(p);
        }
      };
      walk(path.join(trtllm, d));
      return out;
    });
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const parts = f.split(path.sep);
      const c = loadConfig(makeEntry(f, trtllm, parts.at(-3) as string, parts.at(-2) as Category));
      expect(schemaErrors(c), f).toEqual([]);
      expect(
        c.problems.filter((p) => p.severity === 'warning'),
        f,
      ).toEqual([]);
    }
  });

  const listDir = path.join(trtllm, 'testlist');
  const lists = fs.readdirSync(listDir).filter((f) => f.endsWith('.txt'));
  it('has test lists', () => expect(lists.length).toBeGreaterThanOrEqual(10));

  const entries = discoverConfigs(configDir).entries;
  for (const name of lists) {
    it(`test list ${name}: selects exactly the listed ids whose YAML exists`, () => {
      const list = readTestList(path.join(listDir, name));
      const expected = new Set<string>();
      for (const e of list.entries) {
        const { testId, method } = parseTestListLine(e.text);
        const m = /^([^_]+)_(perf|accuracy|stress)_(.+)$/.exec(testId);
        if (!m) continue;
        const [, type, cat, stem] = m;
        const exists = fs.existsSync(path.join(configDir, type, cat, `${stem}.yaml`));
        if (exists && (!method || method === pytestMethodFor(cat as Category))) expected.add(testId);
      }
      const { selected, unmatched } = applyTestList(entries, list);
      expect(new Set(selected.map((s) => s.testId))).toEqual(expected);
      expect(unmatched).toHaveLength(list.entries.length - selected.length);
    });
  }
});
