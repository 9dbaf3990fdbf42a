// `vitest list` on a fixture tree: every config becomes a test with its id, YAML file and location,
// `--tags-filter` and `-t` select the same tests, test lists select exactly their ids.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath, repoRoot } from '../fixtures/paths.js';

const TREE = path.join(repoRoot, 'tests/fixtures/configs/tree');
const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');

interface Listed {
  name: string;
  file: string;
  location?: { line: number; column: number };
}

function vitest(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [VITEST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, DISAGG_CONFIG_DIR: TREE, GPU_TYPE: 'GB200', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

function listJson(args: string[], env: Record<string, string> = {}): Listed[] {
  const r = vitest(['list', '--json', ...args], env);
  expect(r.status, r.stderr).toBe(0);
  const start = r.stdout.indexOf('[');
  return JSON.parse(r.stdout.slice(start)) as Listed[];
}

const EXPECTED = [
  'perf > disagg_perf_good-perf',
  'stress > disagg_stress_anchors',
  'stress > disagg_stress_good-stress',
  'stress > disagg_stress_root-stress',
  'accuracy > wideep_accuracy_good-accuracy',
];

describe('vitest list on a config tree', () => {
  it('shows every config as a test named <type>_<category>_<stem> with its YAML file', () => {
    const listed = listJson([]);
    expect(listed.map((t) => t.name).sort()).toEqual([...EXPECTED].sort());
    for (const t of listed) {
      expect(t.file).toMatch(/\.ya?ml$/);
      // The location is the YAML line of the config's first key (source-mapped from the generated module).
      expect(t.location?.line, t.name).toBeGreaterThanOrEqual(1);
    }
    expect(listed.find((t) => t.name.endsWith('good-accuracy'))?.file).toBe(
      path.join(TREE, 'wideep/accuracy/good-accuracy.yaml'),
    );
  });

  it('static parsing (the VS Code path) sees the same names with YAML locations, before running anything', () => {
    const listed = listJson(['--static-parse']);
    expect(listed.map((t) => t.name).sort()).toEqual([...EXPECTED].sort());
    for (const t of listed) expect(t.location?.line, t.name).toBeGreaterThanOrEqual(1);
  });

  it('--tags-filter=stress and -t stress select the same stress tests', () => {
    const byTag = listJson(['--tags-filter=stress']).map((t) => t.name);
    const byName = listJson(['-t', 'stress']).map((t) => t.name);
    expect(byTag.sort()).toEqual(EXPECTED.filter((n) => n.startsWith('stress')).sort());
    expect(byName.sort()).toEqual(byTag.sort());
  });

  it('a test_type tag selects by deployment type', () => {
    expect(listJson(['--tags-filter=wideep']).map((t) => t.name)).toEqual([
      'accuracy > wideep_accuracy_good-accuracy',
    ]);
    expect(
      listJson(['--tags-filter=perf || accuracy'])
        .map((t) => t.name)
        .sort(),
    ).toEqual(['accuracy > wideep_accuracy_good-accuracy', 'perf > disagg_perf_good-perf']);
  });

  it('listing submits nothing and leaves the output dir (and a crashed run’s ledger) untouched', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'list-out-')), 'output');
    const r = vitest(['list'], { OUTPUT_PATH: out });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(out), `vitest list created ${out}`).toBe(false);
  });

  it('leaves out folders that are not a category with one notice', () => {
    const r = vitest(['list']);
    const notices = r.stderr.split('\n').filter((l) => l.includes('Left out'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('perf-sanity');
  });

  it('a test list selects exactly its ids (names or pytest node ids) and reports unknown ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'testlist-'));
    const list = path.join(dir, 'list.txt');
    fs.writeFileSync(
      list,
      [
        '# smoke',
        'test_disagg.py::TestDisaggBenchmark::test_stress[disagg_stress_good-stress]',
        '',
        'wideep_accuracy_good-accuracy',
        'disagg_perf_does-not-exist',
      ].join('\n'),
    );
    const r = vitest(['list', '--json'], { DISAGG_TEST_LIST: list });
    expect(r.status, r.stderr).toBe(0);
    const names = (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Listed[]).map((t) => t.name).sort();
    expect(names).toEqual(['accuracy > wideep_accuracy_good-accuracy', 'stress > disagg_stress_good-stress']);
    expect(r.stderr).toContain('disagg_perf_does-not-exist');
  });

  it('a missing test list is a clear error', () => {
    const r = vitest(['list'], { DISAGG_TEST_LIST: '/nonexistent/list.txt' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/\/nonexistent\/list\.txt/);
  });

  it(
    'loads the real TensorRT-LLM tree unchanged and selects a real test list exactly',
    { timeout: 300_000 },
    () => {
      const corpus = path.dirname(fixturePath('trtllm', 'test_configs', 'README.md'));
      const all = listJson([], { DISAGG_CONFIG_DIR: corpus });
      expect(all.length).toBeGreaterThan(40);
      const stress = listJson(['-t', 'stress'], { DISAGG_CONFIG_DIR: corpus }).map((t) => t.name);
      expect(stress).toEqual([
        'stress > disagg_stress_deepseek-r1-fp4_1k1k_ctx2_gen1_dep48_bs16_eplb288_mtp3_ccb-DEFAULT',
      ]);

      // A real test list: exactly its ids that exist in the corpus are selected.
      const list = fixturePath('trtllm', 'testlist', 'disagg.txt');
      const ids = fs
        .readFileSync(list, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => /\[(.+)\]$/.exec(l)?.[1] ?? l);
      const existing = new Set(all.map((t) => t.name.split(' > ')[1]));
      const selected = listJson(['--static-parse'], { DISAGG_CONFIG_DIR: corpus, DISAGG_TEST_LIST: list });
      expect(selected.map((t) => t.name.split(' > ')[1]).sort()).toEqual(
        ids.filter((id) => existing.has(id)).sort(),
      );
      expect(selected.length).toBeGreaterThan(0);
    },
  );
});
