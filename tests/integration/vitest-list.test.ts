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
  'perf > disagg_perf-sanity_sanity',
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

  it('--project disagg selects the YAML tests without the user’s test.projects (this repo’s config has none)', () => {
    expect(
      listJson(['--project', 'disagg'])
        .map((t) => t.name)
        .sort(),
    ).toEqual([...EXPECTED].sort());
    expect(
      listJson(['--project', 'dis*'])
        .map((t) => t.name)
        .sort(),
    ).toEqual([...EXPECTED].sort());
    // A filter that keeps neither project still fails as Vitest says.
    const none = vitest(['list', '--project', 'no-such-project']);
    expect(none.status).not.toBe(0);
    expect(none.stdout + none.stderr).toMatch(/No projects matched the filter "no-such-project"/);
  });

  it('a test_type tag selects by deployment type', () => {
    expect(listJson(['--tags-filter=wideep']).map((t) => t.name)).toEqual([
      'accuracy > wideep_accuracy_good-accuracy',
    ]);
    expect(
      listJson(['--tags-filter=perf || accuracy'])
        .map((t) => t.name)
        .sort(),
    ).toEqual([
      'accuracy > wideep_accuracy_good-accuracy',
      'perf > disagg_perf-sanity_sanity',
      'perf > disagg_perf_good-perf',
    ]);
  });

  it('listing submits nothing and leaves the output dir (and a crashed run’s ledger) untouched', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'list-out-')), 'output');
    const r = vitest(['list'], { OUTPUT_PATH: out });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.existsSync(out), `vitest list created ${out}`).toBe(false);
  });

  it('leaves out folders that are not a category with one notice; perf-sanity is listed as perf', () => {
    const r = vitest(['list']);
    const notices = r.stderr.split('\n').filter((l) => l.includes('Left out'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('templates/');
    expect(notices[0]).not.toContain('perf-sanity/ (');
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

describe('vitest list with one test module per folder (testModules: folder)', () => {
  const folder = { DISAGG_TEST_MODULES: 'folder' };

  it('lists the same tests, one module per <test_type>/<category> folder, each test located there', () => {
    const listed = listJson([], folder);
    expect(listed.map((t) => t.name).sort()).toEqual([...EXPECTED].sort());
    const moduleOf = (name: string) => path.relative(repoRoot, listed.find((t) => t.name === name)!.file);
    expect(moduleOf('stress > disagg_stress_anchors')).toMatch(
      /^\.vitest-disagg\/tree-[0-9a-f]{8}\/disagg\/stress\.mjs$/,
    );
    expect(moduleOf('stress > disagg_stress_good-stress')).toBe(moduleOf('stress > disagg_stress_anchors'));
    expect(moduleOf('accuracy > wideep_accuracy_good-accuracy')).toMatch(/\/wideep\/accuracy\.mjs$/);
    // Each test at its own line of its module: distinct lines within one module.
    const stress = listed.filter(
      (t) => t.name.startsWith('stress > disagg_stress_') && !t.name.includes('root'),
    );
    expect(new Set(stress.map((t) => t.location?.line)).size).toBe(stress.length);
    for (const t of listed) expect(t.location?.line, t.name).toBeGreaterThan(1);
  });

  it('static parsing sees the same tests, and -t / --tags-filter select the same ones', () => {
    expect(
      listJson(['--static-parse'], folder)
        .map((t) => t.name)
        .sort(),
    ).toEqual([...EXPECTED].sort());
    const byTag = listJson(['--tags-filter=stress'], folder).map((t) => t.name);
    const byName = listJson(['-t', 'stress'], folder).map((t) => t.name);
    expect(byTag.sort()).toEqual(EXPECTED.filter((n) => n.startsWith('stress')).sort());
    expect(byName.sort()).toEqual(byTag.sort());
  });

  it('a test list: the modules hold exactly the listed configs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'testlist-folder-'));
    const list = path.join(dir, 'list.txt');
    fs.writeFileSync(list, 'disagg_stress_good-stress\nwideep_accuracy_good-accuracy\n');
    const listed = listJson(['--static-parse'], { ...folder, DISAGG_TEST_LIST: list });
    expect(listed.map((t) => t.name).sort()).toEqual([
      'accuracy > wideep_accuracy_good-accuracy',
      'stress > disagg_stress_good-stress',
    ]);
    // A folder with no listed config has no module (an earlier run's module of it is removed).
    expect(listed.some((t) => t.file.endsWith('/disagg/perf.mjs'))).toBe(false);
  });

  it("'auto' (the default) keeps one module per YAML up to 200 configs and switches above, saying so", () => {
    const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'auto-modules-'));
    const perf = path.join(tree, 'disagg', 'perf');
    fs.mkdirSync(perf, { recursive: true });
    const yaml = fs.readFileSync(path.join(TREE, 'disagg/perf/good-perf.yml'), 'utf8');
    for (let i = 0; i < 200; i++)
      fs.writeFileSync(path.join(perf, `p${String(i).padStart(3, '0')}.yaml`), yaml);
    const small = vitest(['list', '--static-parse'], { DISAGG_CONFIG_DIR: tree });
    expect(small.status, small.stderr).toBe(0);
    expect(small.stdout).toContain('/disagg/perf/p000.yaml > perf > disagg_perf_p000');
    expect(small.stderr).not.toContain('one test module per');
    fs.writeFileSync(path.join(perf, 'p200.yaml'), yaml);
    const big = vitest(['list', '--static-parse'], { DISAGG_CONFIG_DIR: tree });
    expect(big.status, big.stderr).toBe(0);
    expect(big.stderr).toContain('201 configs: one test module per <test_type>/<category> folder');
    const lines = big.stdout.split('\n').filter((l) => l.includes(' > perf > disagg_perf_p'));
    expect(lines).toHaveLength(201);
    for (const l of lines) expect(l).toMatch(/\/disagg\/perf\.mjs > perf > disagg_perf_p\d{3}$/);
  });
});
