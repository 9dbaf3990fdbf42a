// The simulator bundle the job-level tests run (dist/sim, built by `npm ci`'s prepare; built here if missing).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BUNDLE = join(ROOT, 'dist/sim/disagg-sim.mjs');

export function ensureSimBundle(): void {
  if (existsSync(BUNDLE)) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-sim.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-sim failed: ${r.stderr}`);
}
