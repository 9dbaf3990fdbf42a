import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { run as list } from '../../../src/cli/list.js';
import { run as validate } from '../../../src/cli/validate.js';
import { fixtures, repoRoot, tmpDir } from './helpers.js';

async function call(cmd: typeof list, argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, cwd: repoRoot };
  const code = await cmd(argv, io);
  return { code, stdout, stderr };
}

const inv = (name: string) => `tests/fixtures/configs/invalid/disagg/stress/${name}.yaml`;

describe('disagg validate', () => {
  it('reports a YAML syntax error with file, path and line', async () => {
    // Written at test time: a broken YAML fixture in the repo would break `prettier --check .`.
    const dir = path.join(tmpDir(), 'syntax', 'disagg', 'stress');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'syntax-error.yaml');
    fs.writeFileSync(
      file,
      'metadata:\n  model_name: tiny-sim\nbenchmark:\n  streaming: true\n  concurrency_list: "1 2\n  input_length: 1024\n',
    );
    const r = await call(validate, [file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `${file}:5:21 benchmark.concurrency_list: YAML syntax error: Missing closing "quote\n`,
    );
  });

  it('reports a stress config without accuracy datasets', async () => {
    const r = await call(validate, [inv('no-accuracy')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^${inv('no-accuracy')}:1:1 metadata\\.accuracy\\.datasets: Stress test has no accuracy_config`,
      ),
    );
  });

  it('reports a concurrency above the batch size and by how much: a warning, an error under --strict', async () => {
    const r = await call(validate, [inv('concurrency-over')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${inv('concurrency-over')}:7:21 benchmark.concurrency_list: warning: concurrency 64 exceeds gen max_batch_size 32 by 32\n`,
    );
    for (const [argv, env] of [
      [['--strict'], {}],
      [[], { DISAGG_STRICT: '1' }],
    ] as const) {
      const s = await call(validate, [inv('concurrency-over'), ...argv], env);
      expect(s.code).toBe(1);
      expect(s.stdout).toBe(
        `${inv('concurrency-over')}:7:21 benchmark.concurrency_list: concurrency 64 exceeds gen max_batch_size 32 by 32\n`,
      );
    }
  });

  it('reports a string where a number belongs', async () => {
    const r = await call(validate, [inv('string-number')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${inv('string-number')}:8:17 benchmark.input_length: must be number, got string "1k"`,
    );
  });

  it('prints an unknown key as a warning and exits 0', async () => {
    const r = await call(validate, [inv('unknown-key')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${inv('unknown-key')}:8:3 benchmark.concurency_list: warning: unknown key "concurency_list" (did you mean concurrency_list?); it is ignored\n`,
    );
    expect(r.stderr).toContain('0 invalid, 0 error(s), 1 warning(s)');
    const strict = await call(validate, [inv('unknown-key'), '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe(
      `${inv('unknown-key')}:8:3 benchmark.concurency_list: unknown key "concurency_list" (did you mean concurrency_list?)\n`,
    );
  });

  it('validates the config dir by default and a directory argument; --json', async () => {
    const ok = await call(validate, [], { DISAGG_CONFIG_DIR: path.join(fixtures, 'tree') });
    expect(ok.code).toBe(0);
    // templates/ and disagg/stray.yaml; disagg/perf-sanity/ is validated as perf.
    expect(ok.stderr).toContain('note: Left out 2 path(s)');
    const r = await call(validate, ['tests/fixtures/configs/invalid', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as {
      valid: boolean;
      errors: number;
      warnings: number;
      files: Array<{ file: string; valid: boolean }>;
    };
    expect(j).toMatchObject({ valid: false, errors: 2, warnings: 2 });
    expect(j.files.filter((f) => !f.valid).map((f) => path.basename(f.file))).toEqual([
      'no-accuracy.yaml',
      'string-number.yaml',
    ]);
    const s = await call(validate, ['tests/fixtures/configs/invalid', '--json', '--strict']);
    const js = JSON.parse(s.stdout) as typeof j;
    expect(js).toMatchObject({ valid: false, strict: true, errors: 4, warnings: 0 });
    expect(js.files.filter((f) => !f.valid).map((f) => path.basename(f.file))).toEqual([
      'concurrency-over.yaml',
      'no-accuracy.yaml',
      'string-number.yaml',
      'unknown-key.yaml',
    ]);
  });

  it('fails for a missing path', async () => {
    const r = await call(validate, ['nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.yaml: no such file or directory');
  });
});

describe('disagg list', () => {
  it('lists name, file, type, category, tags and skip reason as JSON', async () => {
    const r = await call(list, ['--json', '--config-dir', 'tests/fixtures/configs/tree']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { configs: Array<Record<string, unknown>>; notices: string[] };
    expect(j.configs.map((c) => c.name)).toEqual([
      'disagg_perf-sanity_sanity',
      'disagg_perf_good-perf',
      'disagg_stress_anchors',
      'disagg_stress_good-stress',
      'disagg_stress_root-stress',
      'wideep_accuracy_good-accuracy',
    ]);
    expect(j.configs[4]).toMatchObject({
      file: 'tests/fixtures/configs/tree/root-stress.yaml',
      testType: 'disagg',
      category: 'stress',
      tags: ['stress', 'disagg'],
      skipReason: 'not supported on GB200 (supported: H100)',
      selected: true,
    });
    expect(j.notices).toHaveLength(1);
  });

  it('prints a readable list and honours DISAGG_TEST_LIST', async () => {
    const listFile = path.join(tmpDir(), 'list.txt');
    fs.writeFileSync(
      listFile,
      'disagg_stress_anchors\ntest_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_x]\n',
    );
    const r = await call(list, [], {
      DISAGG_CONFIG_DIR: 'tests/fixtures/configs/tree',
      GPU_TYPE: 'H100',
      DISAGG_TEST_LIST: listFile,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'disagg_stress_root-stress\n  file: tests/fixtures/configs/tree/root-stress.yaml\n',
    );
    expect(r.stdout).toContain('skipped: not supported on H100 (supported: GB200, GB300)');
    expect(r.stdout).toContain('not in test list');
    expect(r.stderr).toContain(
      'no config matches test_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_x]',
    );
    expect(r.stdout.match(/not in test list/g)).toHaveLength(5);
  });
});
