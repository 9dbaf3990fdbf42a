// 10,000 jobs in one run against a fake scheduler that answers `poll` for all of them as squeue would:
// one poll call per tick (every live job in it, none twice), every job submitted once and judged once,
// and the ledger ends with every job archived exactly once. CPU and memory are measured by
// scripts/bench/scale-over-time.ts, not asserted here. With the real SLURM scheduler, a poll of 10,000
// jobs is still one squeue command.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerData } from '../../../src/broker/ledger.js';
import { SlurmExecutor } from '../../../src/executors/slurm.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import { ScriptedHost } from '../executors/scripted-host.js';
import { FakeScheduler } from '../../fixtures/fake-scheduler.js';
import { runEveryTest, widthBroker, widthTestIds } from '../../fixtures/width-run.js';
import { archivedLines } from './ledger-files.js';

const N = 10_000;

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-width-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

describe('a run of 10,000 jobs', () => {
  it('polls every live job once per tick and judges every job once', { timeout: 180_000 }, async () => {
    const scheduler = new FakeScheduler();
    const { broker: b, judged: finals } = widthBroker(out, scheduler, { pollMinMs: 20, pollMaxMs: 50 });
    const outcomes = await runEveryTest(b, widthTestIds(N));
    await b.close();

    expect(scheduler.submits).toBe(N);
    expect(outcomes.every((o) => o.state === 'COMPLETED')).toBe(true);
    expect(new Set(outcomes.map((o) => o.jobId)).size).toBe(N);
    // Every job judged once.
    expect(finals.size).toBe(N);
    expect([...finals.values()].every((n) => n === 1)).toBe(true);
    // One executor poll per broker tick, each naming a job at most once, and a job already final only
    // while its end waits for a tick with CPU to spare (each such wait is one carried-over change).
    expect(scheduler.polls.length).toBe(b.pollCalls);
    expect(scheduler.duplicatesInAPoll).toBe(0);
    expect(scheduler.polledAfterFinal).toBeLessThanOrEqual(b.changesCarriedOver);
    // The jobs finish a few ticks after their submission: a handful of polls, not one per job.
    expect(b.pollCalls).toBeLessThan(200);
    // The ledger keeps nothing live; each job is archived once.
    const live = JSON.parse(fs.readFileSync(path.join(out, 'jobs.json'), 'utf8')) as LedgerData;
    expect(live.jobs).toEqual([]);
    const archived = archivedLines(out);
    expect(archived).toHaveLength(N);
    expect(new Set(archived.map((j) => j.jobId)).size).toBe(N);
    expect(archived.every((j) => j.consumed && j.state === 'COMPLETED')).toBe(true);
  });
});

describe('the SLURM scheduler with 10,000 live jobs', () => {
  it('one squeue per poll, whatever the count; final states in one sacct', async () => {
    const ids = Array.from({ length: N }, (_, i) => String(1_000_000 + i));
    let done = false;
    const host = new ScriptedHost((c) => {
      if (c.startsWith('squeue'))
        return {
          code: 0,
          stdout: ids.map((id) => `${id}|${done ? 'COMPLETED' : 'RUNNING'}|node1|None`).join('\n'),
          stderr: '',
        };
      if (c.startsWith('sacct'))
        return {
          code: 0,
          stdout: ids
            .map((id) => `${id}|COMPLETED|0:0|None|2026-01-01T00:00:00|2026-01-01T00:01:00`)
            .join('\n'),
          stderr: '',
        };
      return undefined;
    });
    const ex = new SlurmExecutor({ host, kind: 'ssh' });
    const jobs: SubmittedJob[] = ids.map((id) => ({
      jobId: id,
      testId: `t${id}`,
      jobDir: `/w/${id}`,
      submittedAt: '',
    }));
    const count = (word: string) => host.calls.filter((c) => c.startsWith(word)).length;
    let st: Map<string, JobStatus> = await ex.poll(jobs);
    expect(st.size).toBe(N);
    expect(count('squeue')).toBe(1);
    st = await ex.poll(jobs);
    expect(count('squeue')).toBe(2);
    done = true;
    st = await ex.poll(jobs);
    expect(count('squeue')).toBe(3);
    expect(count('sacct')).toBeLessThanOrEqual(1);
    expect([...st.values()].filter((s) => s.state === 'COMPLETED')).toHaveLength(N);
  });
});
