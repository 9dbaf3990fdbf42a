// A test list, `-t` or `--tags-filter` that selects no YAML test fails the run (a CI job must not pass
// having run nothing) and names the test-list ids that matched nothing; `--passWithNoTests` allows it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { VITEST } from './helpers/suite-run.js';

const TREE = path.join(repoRoot, 'tests/fixtures/configs/tree');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-empty-selection-'));
const LIST = path.join(tmp, 'list.txt');
fs.writeFileSync(
  LIST,
  '# nothing here exists\ndisagg_stress_no-such-config\n' +
    'test_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_also-missing]\n',
);

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [VITEST, 'run', ...args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DISAGG_CONFIG_DIR: TREE,
      DISAGG_EXECUTOR: 'local',
      OUTPUT_PATH: path.join(tmp, 'output'),
      GPU_TYPE: 'GB200',
      ...env,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('a selection that selects no YAML test', () => {
  it('a test list matching nothing fails the run and names every unmatched id', () => {
    const r = run([], { DISAGG_TEST_LIST: LIST });
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain(`[vitest-disagg] no YAML test selected by test list ${LIST}`);
    expect(r.output).toContain('[vitest-disagg]   disagg_stress_no-such-config');
    expect(r.output).toContain(
      '[vitest-disagg]   test_disagg.py::TestDisaggBenchmark::test_benchmark[disagg_perf_also-missing]',
    );
    expect(r.output).toContain('pass --passWithNoTests to allow it');
    // Nothing was submitted.
    expect(fs.existsSync(path.join(tmp, 'output', 'jobs.json'))).toBe(false);
  });

  it('--passWithNoTests lets it pass, still saying what matched nothing', () => {
    const r = run(['--passWithNoTests'], { DISAGG_TEST_LIST: LIST });
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('[vitest-disagg]   disagg_stress_no-such-config');
    expect(r.output).toContain('passing anyway (--passWithNoTests)');
  });

  it('-t and --tags-filter that match no YAML test fail the run too', () => {
    const r = run(['-t', 'no-such-test-name', '--tags-filter=wideep']);
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain(
      '[vitest-disagg] no YAML test selected by -t no-such-test-name, --tags-filter wideep',
    );
  });
});
