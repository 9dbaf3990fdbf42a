// A job that can never start (job_time over the partition's MaxTime, accepted by SLURM with
// EnforcePartLimits=NO) is cancelled after the grace period and its test fails naming the reason and
// the limit; a good config in the same run passes. Real local cluster, slurm executor.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { readLedger, startSuite } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/never-start');
const BAD = 'disagg_stress_over-max-time';
const GOOD = 'disagg_stress_good';

/** States squeue still lists the job in, other than finished ones (`-t all` keeps those a while). */
function liveInSqueue(jobId: string): boolean {
  const r = spawnSync('squeue', ['-h', '-j', jobId, '-t', 'PD,R,CG,CF,S', '-o', '%i'], { encoding: 'utf8' });
  if (r.error) throw new Error(`squeue could not run: ${r.error.message}`);
  return r.stdout.trim() === jobId;
}

describe('never-startable jobs on SLURM', () => {
  it(
    'PENDING (PartitionTimeLimit) is cancelled after the grace with the limit named; the good config passes',
    { timeout: 240_000 },
    async () => {
      requireClusterEnv();
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'never-start-'));
      const run = startSuite(SUITE, out, {
        DISAGG_EXECUTOR: 'slurm',
        DISAGG_BATCH_SIZE: '0',
        DISAGG_HEARTBEAT: '0',
        DISAGG_NEVER_START_GRACE: '3',
      });
      const code = await run.exited;
      const output = run.output();
      expect(code, output).toBe(1);

      const ledger = readLedger(out);
      const bad = ledger?.jobs.find((j) => j.testId === BAD);
      const good = ledger?.jobs.find((j) => j.testId === GOOD);
      expect(bad?.jobId, output).toMatch(/^\d+$/);
      expect(ledger?.jobs, output).toHaveLength(2);

      const sentence =
        `job ${bad?.jobId} PENDING (PartitionTimeLimit): job_time 00:05:00 exceeds partition short MaxTime 00:01:00 ` +
        '— cancelled after 3 s; lower slurm.job_time or pick another partition';
      expect(output).toContain(sentence);
      // Told when first seen, then cancelled: in that order, once each.
      const noticed = output.indexOf(
        `${BAD}: job ${bad?.jobId} PENDING (PartitionTimeLimit) can never start`,
      );
      const cancelled = output.indexOf(
        'cancelling 1 job(s): PENDING (PartitionTimeLimit): job_time 00:05:00',
      );
      expect(noticed, output).toBeGreaterThanOrEqual(0);
      expect(cancelled, output).toBeGreaterThan(noticed);
      expect(output.split('can never start as submitted').length - 1).toBe(1);

      expect(bad?.state).toBe('CANCELLED');
      expect(good?.state, output).toBe('COMPLETED');
      expect(good?.consumed).toBe(true);
      const summary = output.slice(output.indexOf('vitest-disagg summary'));
      expect(summary).toMatch(new RegExp(`passed\\s+${GOOD}\\s`));
      expect(summary).toMatch(new RegExp(`failed\\s+${BAD}\\s`));
      expect(liveInSqueue(bad?.jobId as string), `job ${bad?.jobId} still queued`).toBe(false);
    },
  );
});
