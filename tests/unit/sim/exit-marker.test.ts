// The simulator's job script writes the exit marker as its last step, whatever the exit code: a
// watcher sees a failed job's end too (the done marker is written on success only).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE, exitMarkerFile, SIM_BUNDLE, SIM_SCRIPT } from '../../../src/jobdir/files.js';
import { repoRoot } from '../../fixtures/paths.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exit-marker-'));
  fs.writeFileSync(path.join(dir, CONFIG_FILE), 'x: 1\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function runWithBundle(body: string, jobId: string): number | null {
  // A stand-in for the bundle: the script's contract is the exit code it passes on.
  fs.writeFileSync(path.join(dir, SIM_BUNDLE), body);
  const r = spawnSync(
    'bash',
    [path.join(repoRoot, 'scripts', SIM_SCRIPT), '--job-dir', dir, '--job-id', jobId],
    { env: { ...process.env, DISAGG_NODE: process.execPath }, encoding: 'utf8' },
  );
  return r.status;
}

describe('disagg-sim.slurm exit marker', () => {
  it('holds the exit code of a failed job', () => {
    expect(runWithBundle('process.exit(3);\n', '41')).toBe(3);
    expect(fs.readFileSync(path.join(dir, exitMarkerFile('41')), 'utf8')).toBe('3\n');
  });

  it('holds 0 for a job that succeeded, and no half-written file is left', () => {
    expect(runWithBundle('', '42')).toBe(0);
    expect(fs.readFileSync(path.join(dir, exitMarkerFile('42')), 'utf8')).toBe('0\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
