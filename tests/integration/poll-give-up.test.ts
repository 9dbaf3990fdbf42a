// Polling that keeps failing past its budget: a `squeue` stub first on PATH fails after its first calls
// (scancel still works). The tests fail with the give-up message and no job of the run is left in the
// real squeue. Real local cluster, slurm executor.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { readLedger, startSuite } from './helpers/suite-run.js';

/** Three jobs that run until cancelled (simulator fault `hang`). */
const HANG = path.join(repoRoot, 'tests/fixtures/suites/hang');
/** squeue calls the stub lets through before it starts failing: the jobs are seen first. */
const GOOD_CALLS = 2;

function realSqueue(): string {
  const r = spawnSync('bash', ['-c', 'command -v squeue'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (!p) throw new Error('squeue is not on PATH: install SLURM (scripts/local-cluster.sh) first');
  return p;
}

/** A dir holding a `squeue` that runs the real one GOOD_CALLS times, then fails like a lost controller. */
function failingSqueueDir(): { dir: string; calls: () => number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squeue-stub-'));
  const counter = path.join(dir, 'calls');
  fs.writeFileSync(counter, '');
  fs.writeFileSync(
    path.join(dir, 'squeue'),
    [
      '#!/bin/bash',
      `echo x >> ${JSON.stringify(counter)}`,
      `n=$(wc -l < ${JSON.stringify(counter)})`,
      `if [ "$n" -le ${GOOD_CALLS} ]; then exec ${JSON.stringify(realSqueue())} "$@"; fi`,
      'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2',
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { dir, calls: () => fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}

function liveInSqueue(ids: string[]): string[] {
  const r = spawnSync('squeue', ['-h', '-j', ids.join(','), '-t', 'PD,R,CG,CF,S', '-o', '%i'], {
    encoding: 'utf8',
  });
  if (r.error) throw new Error(`squeue could not run: ${r.error.message}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

describe('poll give-up on SLURM', () => {
  it(
    'squeue failing past the budget: tests fail saying so and the run cancels its jobs',
    { timeout: 240_000 },
    async () => {
      requireClusterEnv();
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'poll-give-up-'));
      const stub = failingSqueueDir();
      const run = startSuite(HANG, out, {
        DISAGG_EXECUTOR: 'slurm',
        DISAGG_BATCH_SIZE: '0',
        DISAGG_HEARTBEAT: '0',
        DISAGG_POLL_GIVE_UP: '5',
        PATH: `${stub.dir}:${process.env.PATH ?? ''}`,
      });
      const code = await run.exited;
      const output = run.output();
      expect(code, output).toBe(1);
      expect(stub.calls(), output).toBeGreaterThan(GOOD_CALLS);

      const jobs = readLedger(out)?.jobs ?? [];
      expect(jobs, output).toHaveLength(3);
      const ids = jobs.map((j) => j.jobId);
      // The give-up is told once, names every job, and comes after failed polls.
      const failedPoll = output.indexOf('poll failed (1 in a row');
      const giveUp = output.search(
        /polling failed for [\d.]+ s \(squeue failed \(exit 1\): slurm_load_jobs error[^)]*\)\); gave up: cancelling this run's job\(s\)/,
      );
      expect(failedPoll, output).toBeGreaterThanOrEqual(0);
      expect(giveUp, output).toBeGreaterThan(failedPoll);
      for (const id of ids) expect(output.slice(giveUp).split('\n')[0]).toContain(id);
      // Every test failed with the give-up reason.
      for (const j of jobs) {
        expect(output).toContain(`job ${j.jobId}: polling failed for`);
        expect(j.state).toBe('CANCELLED');
      }
      expect(output.match(/gave up; the job was cancelled/g)?.length, output).toBeGreaterThanOrEqual(3);
      // scancel worked: nothing of this run is left in the real queue.
      let left = liveInSqueue(ids);
      for (let i = 0; i < 20 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 500));
        left = liveInSqueue(ids);
      }
      expect(left, output).toEqual([]);
    },
  );
});
