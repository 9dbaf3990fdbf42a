// `vitest --project …` on a user's project without `test.projects` (tests/fixtures/projects/root-and-yaml:
// one own test in the root project, the YAML tree in `disagg`). The plugin declares the root config and
// its YAML project as the run's projects (src/plugin/root-project.ts), through Vitest's public
// `test.projects` only: each filter keeps what it names, and the root project stays Vitest's own one
// (listed once, with no project name), not a second copy loaded from the same file.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturePath, repoRoot } from '../fixtures/paths.js';

const PROJECT = fixturePath('projects', 'root-and-yaml');
const TREE = fixturePath('configs', 'tree');
const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');

interface Listed {
  name: string;
  projectName?: string;
}

function vitestList(args: string[]) {
  const r = spawnSync(process.execPath, [VITEST, 'list', '--json', ...args], {
    cwd: PROJECT,
    env: { ...process.env, DISAGG_CONFIG_DIR: TREE, GPU_TYPE: 'GB200' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

/** What a filter lists, as `<project>: <test>` (the root project has no name), sorted. */
function listed(args: string[]): string[] {
  const r = vitestList(args);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Listed[])
    .map((t) => `${t.projectName ?? ''}: ${t.name}`)
    .sort();
}

const OWN = [': own test'];
const YAML = [
  'disagg: accuracy > wideep_accuracy_good-accuracy',
  'disagg: perf > disagg_perf-sanity_sanity',
  'disagg: perf > disagg_perf_good-perf',
  'disagg: stress > disagg_stress_anchors',
  'disagg: stress > disagg_stress_good-stress',
  'disagg: stress > disagg_stress_root-stress',
];

describe('--project without the user’s test.projects', () => {
  it('no filter and `*` list the own test once, in the root project, and the YAML tests in disagg', () => {
    expect(listed([])).toEqual([...OWN, ...YAML].sort());
    expect(listed(['--project', '*'])).toEqual([...OWN, ...YAML].sort());
  });

  it('`disagg` and `dis*` list only the YAML tests; `!disagg` only the own test', () => {
    expect(listed(['--project', 'disagg'])).toEqual(YAML);
    expect(listed(['--project', 'dis*'])).toEqual(YAML);
    expect(listed(['--project', '!disagg'])).toEqual(OWN);
  });

  it('a filter that keeps no project fails as Vitest says', () => {
    const r = vitestList(['--project', 'no-such-project']);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/No projects matched the filter "no-such-project"/);
  });
});

describe('a config file Vitest refuses as a project (ci.config.ts)', () => {
  it('still lists both projects, but `--project disagg` alone needs the user’s test.projects', () => {
    expect(listed(['--config', 'ci.config.ts'])).toEqual([...OWN, ...YAML].sort());
    expect(listed(['--config', 'ci.config.ts', '--project', '!disagg'])).toEqual(OWN);
    // The limitation README.md documents (with the test.projects that lifts it).
    const r = vitestList(['--config', 'ci.config.ts', '--project', 'disagg']);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/No projects matched the filter "disagg"/);
  });
});
