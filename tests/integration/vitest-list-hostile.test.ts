// One bad YAML never aborts `vitest list` (with or without --static-parse) or a run: it shows as that
// test's failure, with the file, position and what is wrong; the good configs beside it still list.
// Needs no cluster: listing runs nothing, and the hostile tests fail before any job is submitted.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { HOSTILE_FILES, writeHostileTree } from '../fixtures/hostile-configs.js';

const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
const stem = (name: string): string => name.replace(/\.yaml$/, '');
const EXPECTED = ['good', 'n%x%j', ...HOSTILE_FILES.map((h) => stem(h.name))]
  .map((s) => `stress > disagg_stress_${s}`)
  .sort();

let tmp: string;
let tree: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-list-hostile-'));
  tree = path.join(tmp, 'configs');
  writeHostileTree(tree);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function vitest(args: string[]) {
  const r = spawnSync(process.execPath, [VITEST, ...args], {
    cwd: repoRoot,
    env: { ...process.env, DISAGG_CONFIG_DIR: tree, GPU_TYPE: 'GB200', OUTPUT_PATH: path.join(tmp, 'out') },
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

function listed(args: string[]): string[] {
  const r = vitest(['list', '--json', ...args]);
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ name: string }>)
    .map((t) => t.name)
    .sort();
}

describe('vitest on a config tree with hostile files', () => {
  it('vitest list shows every config, the hostile ones included', () => {
    expect(listed([])).toEqual(EXPECTED);
  }, 150_000);

  it('vitest list --static-parse shows the same names', () => {
    expect(listed(['--static-parse'])).toEqual(EXPECTED);
  }, 150_000);

  it('running them fails each hostile test with its own message naming its file', () => {
    const out = path.join(tmp, 'report.json');
    const pattern = HOSTILE_FILES.map((h) => stem(h.name)).join('|');
    const r = vitest(['run', '-t', pattern, '--reporter=json', `--outputFile=${out}`]);
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      testResults: Array<{
        name: string;
        assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
      }>;
    };
    const results = report.testResults.flatMap((f) =>
      f.assertionResults.map((a) => ({ file: f.name, ...a })),
    );
    for (const h of HOSTILE_FILES) {
      const t = results.find((a) => a.title === `disagg_stress_${stem(h.name)}`);
      expect(t?.status, h.name).toBe('failed');
      expect(t?.failureMessages.join('\n'), h.name).toMatch(h.expect);
      expect(t?.failureMessages.join('\n'), h.name).toContain(h.name);
    }
  }, 150_000);
});
