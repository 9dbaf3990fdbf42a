// jobs.json that is malformed at start fails fast with the file, the entry and what to do; one deleted
// or corrupted mid-run is rewritten from the broker's memory, with one notice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEDGER_JOURNAL } from '../../../src/jobdir/files.js';
import { readLive } from './ledger-files.js';
import { JobBroker } from '../../../src/broker/broker.js';
import { Ledger, LedgerError } from '../../../src/broker/ledger.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import type { Executor } from '../../../src/executors/types.js';
import { FakeExecutor } from './fake-executor.js';

/** Jobs stay RUNNING until `finish` is set, so the test can damage the ledger mid-run. */
class HeldExecutor extends FakeExecutor {
  finish = false;
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const state = this.finish ? 'COMPLETED' : 'RUNNING';
    return new Map(jobs.map((j) => [j.jobId, { jobId: j.jobId, state, exitCode: '0:0' }]));
  }
  override async fetchLogs(): Promise<void> {}
  override async close(): Promise<void> {}
}

let out: string;
let file: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-robust-'));
  file = path.join(out, 'jobs.json');
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function brokerOn(executor: Executor, notices: string[]): JobBroker {
  const b = new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: { maxJobsInFlight: 0, pollMinMs: 5, pollMaxMs: 20, resume: true },
    specFor: async (testId) => ({
      testId,
      configHash: `hash-${testId}`,
      config: {},
      configFile: `/x/${testId}.yaml`,
      localLogDir: path.join(out, 'slurm_logs', testId),
      timeLimitMs: 60_000,
    }),
    log: () => undefined,
  });
  b.events.on('notice', (e) => void notices.push(e.message));
  return b;
}

const JOB = {
  testId: 't1',
  configHash: 'h',
  executor: 'slurm',
  jobId: '7',
  jobDir: '/d',
  state: 'RUNNING',
  runId: 'r',
  submittedAt: 'x',
  updatedAt: 'x',
  consumed: false,
};

describe('ledger read at start', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{not json', /is not valid JSON/],
    ['a null job (issue 12)', '{"version":1,"runs":[],"jobs":[null]}', /jobs\[0\] is null, not a job entry/],
    [
      'a job without jobId',
      JSON.stringify({ version: 1, runs: [], jobs: [JOB, { ...JOB, jobId: undefined }] }),
      /jobs\[1\]\.jobId is missing, not a non-empty string/,
    ],
    ['jobs not an array', '{"version":1,"runs":[],"jobs":{}}', /"jobs" is an object, not an array/],
    [
      'a run with a string pid',
      '{"version":1,"runs":[{"id":"r","pid":"1","startedAt":"x"}],"jobs":[]}',
      /runs\[0\]\.pid is string "1", not an integer/,
    ],
    ['another version', '{"version":2,"runs":[],"jobs":[]}', /"version" is 2, not 1/],
  ];
  for (const [name, text, problem] of cases) {
    it(`names the file, the entry and what to do: ${name}`, async () => {
      fs.writeFileSync(file, text);
      const err = await new Ledger(out).read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LedgerError);
      expect((err as Error).message).toMatch(problem);
      expect((err as Error).message).toContain(`${file}: `);
      expect((err as Error).message).toMatch(/Move it aside \(e\.g\. `mv .*jobs\.json .*jobs\.json\.bad`/);
    });
  }

  it('a ledger that is not a file is an error too, not a crash', async () => {
    fs.mkdirSync(file);
    await expect(new Ledger(out).read()).rejects.toThrow(
      /jobs\.json: cannot be read \(.*jobs\.json is a directory, not a regular file/,
    );
  });

  it('the broker fails at start, leaves the file as it was and closes at once (no close timeout)', async () => {
    const text = '{"version":1,"runs":[],"jobs":[null]}';
    fs.writeFileSync(file, text);
    const b = brokerOn(new HeldExecutor(), []);
    await expect(b.start()).rejects.toThrow(/jobs\[0\] is null/);
    await expect(b.run('t1')).rejects.toThrow(/jobs\[0\] is null/);
    const began = Date.now();
    await b.close();
    // Well below the broker's 10 s scan interval a close timeout would wait out, even under a CPU hog.
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('ledger damaged mid-run', () => {
  for (const [name, damage] of [
    [
      'deleted',
      () => {
        fs.rmSync(file, { force: true });
        fs.rmSync(path.join(out, LEDGER_JOURNAL), { force: true });
      },
    ],
    ['corrupted', () => fs.writeFileSync(file, '{"version":1,"runs":[],"jobs":[nul')],
    ['emptied to null jobs', () => fs.writeFileSync(file, '{"version":1,"runs":[],"jobs":[null]}')],
  ] as const) {
    it(`is rewritten from the broker's memory when ${name}, with one notice`, async () => {
      const exec = new HeldExecutor();
      const notices: string[] = [];
      const b = brokerOn(exec, notices);
      await b.start();
      b.schedule(['t1', 't2']);
      const runs = [b.run('t1'), b.run('t2')];
      // Wait until the file shows both jobs RUNNING: the last write before the jobs end (each job's
      // record and its submitted event are written before it is polled, and its state never changes
      // while held), so no write is in flight that could race the damage and overwrite it unseen. An
      // event, not a quiet period: a loaded machine may delay a write by any time. Bounded as a safety net.
      const bothRunning = (): boolean => {
        const d = readLive(out);
        return d.jobs.length === 2 && d.jobs.every((j) => j.state === 'RUNNING');
      };
      for (let end = Date.now() + 15_000; !bothRunning();) {
        if (Date.now() > end) throw new Error('the ledger never showed both jobs RUNNING');
        await new Promise((r) => setTimeout(r, 5));
      }
      damage();
      exec.finish = true;
      const outcomes = await Promise.all(runs);
      for (const o of outcomes) await b.consumed(o.testId, o.jobId);
      await b.close();
      expect(outcomes.map((o) => o.state)).toEqual(['COMPLETED', 'COMPLETED']);
      // Judged, the jobs moved to the run's archive; the ended run left jobs.json with its last job.
      const data = await new Ledger(out).readAll();
      expect(data.jobs.map((j) => [j.testId, j.state, j.consumed, j.runId])).toEqual([
        ['t1', 'COMPLETED', true, b.runId],
        ['t2', 'COMPLETED', true, b.runId],
      ]);
      expect(data.live.jobs).toEqual([]);
      expect(data.live.runs).toEqual([]);
      expect(
        notices.filter((n) => n.includes('jobs.json')),
        notices.join('\n'),
      ).toHaveLength(1);
      expect(notices.join('\n')).toMatch(/jobs\.json.*during the run; rewriting it from this run's memory/);
    });
  }
});
