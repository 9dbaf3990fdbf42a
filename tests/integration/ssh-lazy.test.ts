// The README's `executor: 'ssh'` example without SSH settings: `vitest list` must work (nothing is
// submitted), and a real run fails each test only when its job is submitted, saying what to set.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';

const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');
const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');

function vitest(args: string[], out: string) {
  const env: NodeJS.ProcessEnv = {};
  // No SSH settings at all, whatever the calling shell has.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DISAGG_')) env[k] = v;
  const r = spawnSync(process.execPath, [VITEST, ...args], {
    cwd: repoRoot,
    env: { ...env, DISAGG_EXECUTOR: 'ssh', DISAGG_CONFIG_DIR: SHORT, OUTPUT_PATH: out, GPU_TYPE: 'GB200' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

describe('executor ssh without SSH settings', () => {
  it('vitest list lists the tests', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-ssh-lazy-'));
    const r = vitest(['list', '--json'], out);
    expect(r.status, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as Array<{ name: string }>;
    expect(listed.map((t) => t.name).sort()).toEqual([
      'stress > disagg_stress_short-1',
      'stress > disagg_stress_short-2',
      'stress > disagg_stress_short-3',
    ]);
  });

  it('a run fails the test at submission, naming the missing setting', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-ssh-lazy-'));
    const r = vitest(['run', '-t', 'short-1'], out);
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('SSH executor: no host. Set DISAGG_SSH_HOST');
  });
});
