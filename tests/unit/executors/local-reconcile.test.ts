// Issue 21, item 9a: a run killed between starting a local job and recording it leaves a write-ahead
// intent. If the job ended before the next run starts, no process carries its token any more; the token
// file its wrapper wrote into the job dir still finds it, so the job is adopted, never run a second time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/broker/ledger.js';
import { reconcileIntents } from '../../../src/broker/write-ahead.js';
import { createExecutor, type Executor } from '../../../src/executors/index.js';
import { JOB_TOKEN_FILE } from '../../../src/jobdir/files.js';
import type { JobSpec, SubmittedJob } from '../../../src/types.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';
import { shortSimSpec } from '../../fixtures/short-spec.js';

let work: string;
const executors: Executor[] = [];
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-local-reconcile-'));
});
afterEach(async () => {
  for (const e of executors) await e.close();
  executors.length = 0;
  rmSync(work, { recursive: true, force: true });
});

async function executor(): Promise<Executor> {
  const e = await createExecutor('local', testExecutorSettings());
  executors.push(e);
  return e;
}

function spec(testId: string, token: string, script: string): JobSpec {
  writeFileSync(path.join(work, `${testId}.sh`), script);
  const s = { ...shortSimSpec(work, testId), configFile: path.join(work, 'c.yaml'), submitToken: token };
  s.config = { ...s.config, simulator: undefined, slurm: { script_file: `${testId}.sh` } };
  return s;
}

/** Poll (the submitting executor is the job's parent) until the job is final; bounded as a safety net. */
async function waitFinal(e: Executor, job: SubmittedJob): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const state = (await e.poll([job])).get(job.jobId)?.state ?? 'UNKNOWN';
    if (state !== 'RUNNING' && state !== 'COMPLETING') return state;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${job.jobId} did not end within 30 s`);
}

describe('local reconcile finds jobs that already ended', () => {
  it('by the token file in the job dir, with the outcome its exit code gives', async () => {
    const killed = await executor();
    const ok = spec('local_ok', 'dsg-r1-1-aaaa', 'echo done\n');
    const bad = spec('local_bad', 'dsg-r1-2-bbbb', 'exit 3\n');
    const okJob = await killed.submit(ok);
    const badJob = await killed.submit(bad);
    expect(await waitFinal(killed, okJob)).toBe('COMPLETED');
    expect(await waitFinal(killed, badJob)).toBe('FAILED');

    // The next run: a fresh executor, no process left with either token.
    const next = await executor();
    const dirs = new Map([
      ['dsg-r1-1-aaaa', ok.localLogDir],
      ['dsg-r1-2-bbbb', bad.localLogDir],
      ['dsg-r1-3-cccc', path.join(work, 'never-started')],
    ]);
    const found = await next.reconcile?.([...dirs.keys()], dirs);
    expect(found?.get('dsg-r1-1-aaaa')).toMatchObject({ jobId: okJob.jobId, state: 'COMPLETED' });
    expect(found?.get('dsg-r1-2-bbbb')).toMatchObject({ jobId: badJob.jobId, state: 'FAILED' });
    expect(found?.has('dsg-r1-3-cccc')).toBe(false);
    // Another submission's token in the same dir (a later attempt) is not this one's.
    writeFileSync(path.join(ok.localLogDir, JOB_TOKEN_FILE), `dsg-r1-9-ffff ${okJob.jobId}\n`);
    expect((await next.reconcile?.(['dsg-r1-1-aaaa'], dirs))?.has('dsg-r1-1-aaaa')).toBe(false);
  }, 300_000);

  it('the next run adopts the ended job from the dead run’s intent instead of submitting it again', async () => {
    const out = path.join(work, 'out');
    const killed = await executor();
    const s = spec('local_adopt', 'dsg-r1-1-dddd', 'echo done\n');
    const job = await killed.submit(s);
    expect(await waitFinal(killed, job)).toBe('COMPLETED');
    // What kill -9 between the submit and the ledger write leaves: the intent of a dead run.
    const dead = spawnSync('true').pid as number;
    const ledger = new Ledger(out);
    await ledger.update((d) => {
      d.runs.push({ id: 'r1', pid: dead, startedAt: new Date().toISOString() });
      d.intents = [
        {
          token: 'dsg-r1-1-dddd',
          testId: 'local_adopt',
          runId: 'r1',
          executor: 'local',
          configHash: 'h',
          localLogDir: s.localLogDir,
          createdAt: new Date().toISOString(),
        },
      ];
    });
    const result = await reconcileIntents(ledger, await executor());
    expect(result.dropped).toEqual([]);
    expect(result.adopted).toEqual([
      expect.objectContaining({ testId: 'local_adopt', jobId: job.jobId, state: 'COMPLETED' }),
    ]);
    expect((await ledger.read()).jobs).toEqual([
      expect.objectContaining({ jobId: job.jobId, consumed: false, jobDir: path.resolve(s.localLogDir) }),
    ]);
  }, 300_000);
});
