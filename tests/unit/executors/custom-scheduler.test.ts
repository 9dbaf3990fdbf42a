// A scheduler registered from outside src/executors (tests/fixtures/schedulers/plain-bash.ts, one file,
// one `register` call) runs a simulator config end to end through the executor API.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExecutor, registeredKinds } from '../../../src/executors/index.js';
import { BENCH_LOG, CONFIG_FILE, SIM_SCRIPT, slurmErrFile } from '../../../src/jobdir/files.js';
import { loadBenchResults } from '../../../src/parsers/bench.js';
import { TERMINAL_STATES, type JobSpec, type JobStatus } from '../../../src/types.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';
import { calls, PLAIN_BASH } from '../../fixtures/schedulers/plain-bash.js';
import { shortSimSpec } from '../../fixtures/short-spec.js';

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-custom-sched-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const spec = (): JobSpec => shortSimSpec(work, 'custom_sched_short_1');

describe('a scheduler registered from outside src/executors', () => {
  it('is listed, plans, submits, polls to a final state, fetches logs and the bench log parses', async () => {
    expect(registeredKinds()).toContain(PLAIN_BASH);
    const ex = await createExecutor(PLAIN_BASH, testExecutorSettings());
    try {
      expect(ex.kind).toBe(PLAIN_BASH);
      const s = spec();
      const plan = await ex.plan(s);
      expect(plan.launcher).toBe(PLAIN_BASH);
      expect(plan.jobDir).toBe(path.resolve(s.localLogDir));
      expect(plan.files.map((f) => f.name)).toEqual(expect.arrayContaining([CONFIG_FILE, SIM_SCRIPT]));

      const job = await ex.submit(s);
      expect(calls.submit).toBe(1);
      let status: JobStatus | undefined;
      for (let i = 0; i < 600; i += 1) {
        status = (await ex.poll([job])).get(job.jobId);
        if (status && TERMINAL_STATES.has(status.state)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const out = readFileSync(path.join(job.jobDir, slurmErrFile(job.jobId)), 'utf8');
      expect(status, out).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(await ex.scanEarlyFailure(job)).toBeUndefined();

      // Fetching into another dir goes through the JobDir code written once over the Host.
      const local = path.join(work, 'fetched');
      await ex.fetchLogs(job, local);
      const bench = await loadBenchResults(local, BENCH_LOG);
      expect(bench.missing).toEqual([]);
      expect(bench.blocks.map((b) => [b.concurrency, b.completed])).toEqual([
        [1, true],
        [2, true],
      ]);
      expect(bench.blocks[1].metrics.median_ttft_ms).toBeGreaterThan(0);
      expect(calls.poll).toBeGreaterThan(0);
    } finally {
      await ex.close();
    }
  }, 120_000);
});
