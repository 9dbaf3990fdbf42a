// The built-in 'local' executor (LocalScheduler × LocalHost × JobDir) from its ExecutorSettings alone.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../../src/executors/index.js';
import { BENCH_LOG, slurmErrFile, slurmOutFile } from '../../../src/jobdir/files.js';
import { TERMINAL_STATES, type JobStatus, type SubmittedJob } from '../../../src/types.js';
import type { Executor } from '../../../src/executors/index.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';
import { shortSimSpec } from '../../fixtures/short-spec.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-local-ex-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

async function waitFinal(ex: Executor, job: SubmittedJob): Promise<JobStatus | undefined> {
  let status: JobStatus | undefined;
  for (let i = 0; i < 600; i += 1) {
    status = (await ex.poll([job])).get(job.jobId);
    if (status && TERMINAL_STATES.has(status.state)) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

describe("executor 'local'", () => {
  it('plans the exact command, runs the simulator job in its log dir, passes only childEnv', async () => {
    const ex = await createExecutor(
      'local',
      testExecutorSettings({ childEnv: { PATH: process.env.PATH, MARK: 'x' } }),
    );
    try {
      const spec = shortSimSpec(work, 'local_short_1');
      const plan = await ex.plan(spec);
      expect(plan.launcher).toBe('local');
      expect(plan.command.env.DISAGG_JOB_DIR).toBe(path.resolve(spec.localLogDir));
      expect(plan.command.commandLine).toMatch(/^SLURM_JOB_NAME=.* bash \S+disagg-sim\.slurm$/);
      const job = await ex.submit(spec);
      expect(job.pid).toBeGreaterThan(0);
      const status = await waitFinal(ex, job);
      const err = readFileSync(path.join(job.jobDir, slurmErrFile(job.jobId)), 'utf8');
      expect(status, err).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(readFileSync(path.join(spec.localLogDir, BENCH_LOG), 'utf8')).toMatch(/concurrency 2 done/);
      await ex.fetchLogs(job, spec.localLogDir); // same dir: nothing to do, nothing broken
    } finally {
      await ex.close();
    }
  }, 120_000);

  it('cancels a running job (process group) and sees no inherited variables', async () => {
    const ex = await createExecutor(
      'local',
      testExecutorSettings({ childEnv: { PATH: process.env.PATH, MARK: 'x' } }),
    );
    try {
      const script = path.join(work, 'job.sh');
      writeFileSync(script, 'echo "mark=$MARK home=${HOME:-none}"\nsleep 30\n');
      const spec = { ...shortSimSpec(work, 'local_sleep'), configFile: path.join(work, 'c.yaml') };
      spec.config = { ...spec.config, simulator: undefined, slurm: { script_file: 'job.sh' } };
      const job = await ex.submit(spec);
      // Cancel only once the script has printed its line (a loaded machine may take a while to get there):
      // an event, not a fixed wait. Bounded as a safety net.
      const outFile = path.join(job.jobDir, slurmOutFile(job.jobId));
      const printed = (): boolean => {
        try {
          return readFileSync(outFile, 'utf8').includes('mark=');
        } catch {
          return false;
        }
      };
      for (let end = Date.now() + 30_000; !printed() && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 20));
      expect((await ex.poll([job])).get(job.jobId)?.state).toBe('RUNNING');
      await ex.cancel([job]);
      expect((await waitFinal(ex, job))?.state).toBe('CANCELLED');
      const out = readFileSync(path.join(job.jobDir, slurmOutFile(job.jobId)), 'utf8');
      expect(out).toContain('mark=x home=none');
    } finally {
      await ex.close();
    }
  }, 300_000);
});
