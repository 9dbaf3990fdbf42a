// A job SLURM holds PENDING (submitted with `--begin=now+1hour`, reason BeginTime) shows its reason in
// the run's output within one poll tick of its submission; Ctrl-C then cancels it. Real local cluster.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { startSuite } from './helpers/suite-run.js';

const HELD = path.join(repoRoot, 'tests/fixtures/suites/held');
/** The slurm executor's first poll comes pollMinMs (2 s) after a submit. */
const POLL_TICK_MS = 2_000;
/** One squeue round trip on a busy 2-core machine. */
const SLACK_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs: number, output: () => string) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = read();
    if (v !== undefined) return { value: v, at: Date.now() };
    await sleep(50);
  }
  throw new Error(`no ${what} within ${timeoutMs} ms; run output:\n${output()}`);
}

function inSqueue(jobId: string): boolean {
  const r = spawnSync('squeue', ['-h', '-j', jobId, '-o', '%i'], { encoding: 'utf8' });
  if (r.error) throw new Error(`squeue could not run: ${r.error.message}`);
  return r.stdout.trim() === jobId;
}

describe('live progress on SLURM', () => {
  it(
    'a held job: "PENDING (BeginTime)" within one poll tick of its submission',
    { timeout: 120_000 },
    async () => {
      requireClusterEnv();
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'progress-held-'));
      const run = startSuite(HELD, out, {
        DISAGG_EXECUTOR: 'slurm',
        DISAGG_BATCH_SIZE: '0',
        DISAGG_HEARTBEAT: '0',
      });
      let jobId = '';
      try {
        const submitted = await waitFor(
          'submission',
          () => /disagg_stress_held: submitted job (\d+)/.exec(run.output())?.[1],
          60_000,
          run.output,
        );
        jobId = submitted.value;
        const pending = await waitFor(
          'PENDING line',
          () =>
            new RegExp(
              `^\\[vitest-disagg\\] job ${jobId} disagg_stress_held PENDING \\((\\w+)\\)$`,
              'm',
            ).exec(run.output())?.[1],
          30_000,
          run.output,
        );
        expect(pending.value).toBe('BeginTime');
        expect(pending.at - submitted.at, run.output()).toBeLessThanOrEqual(POLL_TICK_MS + SLACK_MS);
        expect(inSqueue(jobId), `job ${jobId} should still be held`).toBe(true);
      } finally {
        run.child.kill('SIGINT');
        const code = await Promise.race([run.exited, sleep(30_000).then(() => 'still running')]);
        if (code === 'still running') run.child.kill('SIGKILL');
      }
      // Ctrl-C cancelled the held job (a leftover would hold a slot of the shared cluster for an hour).
      await sleep(3_000);
      expect(jobId && inSqueue(jobId), `job ${jobId} left in squeue after Ctrl-C`).toBe(false);
    },
  );
});
