// jobs.json keeps what is live; a finished, judged job moves to its run's archive. An old ledger holding
// every job ever is migrated once (with a notice), losing nothing, and resume, `disagg cancel`, DEBUG_MODE
// and the report still see every job of the earlier runs.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker } from '../../../src/broker/broker.js';
import { linkLatest, runDirFor } from '../../../src/broker/job-dirs.js';
import { appendToArchive } from '../../../src/broker/ledger-archive.js';
import { Ledger, type LedgerData, type LedgerJob } from '../../../src/broker/ledger.js';
import { main } from '../../../src/cli/main.js';
import { processStartTime } from '../../../src/executors/process-identity.js';
import { loadOutputDir } from '../../../src/report/from-output.js';
import type { JobStatus, SubmittedJob } from '../../../src/types.js';
import { debugOutcome } from '../../../fixtures/steps/job-step.js';
import { archivedLines, judgedJob, readLive, runIdOf } from './ledger-files.js';
import { FakeExecutor } from './fake-executor.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-archive-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const RUNS = 20;
const PER_RUN = 50;
/** A finished, judged job of an old run, as an older version wrote it into jobs.json. */
function oldJob(r: number, i: number): LedgerJob {
  return judgedJob(
    out,
    r,
    {
      testId: `test_${i}`,
      configHash: `h${i}`,
      jobId: String(10_000 + r * PER_RUN + i),
      jobDir: `/jobs/${r}/${i}`,
    },
    i,
  );
}

/** An old ledger: 1,000 judged jobs of 20 ended runs, plus a crashed run with a completed unjudged job. */
function writeOldLedger(extra: LedgerJob[] = [], crashedPid = 2 ** 22 + 7): LedgerData {
  const jobs: LedgerJob[] = [];
  for (let r = 0; r < RUNS; r++) for (let i = 0; i < PER_RUN; i++) jobs.push(oldJob(r, i));
  const crashed = '20250102-000000-dead';
  const resumable: LedgerJob = {
    ...oldJob(RUNS, 0),
    testId: 'resume_me',
    configHash: 'hash-resume_me',
    jobId: '555',
    runId: crashed,
    consumed: false,
  };
  const data: LedgerData = {
    version: 1,
    runs: [
      ...Array.from({ length: RUNS }, (_, r) => ({
        id: runIdOf(r),
        pid: 1,
        startedAt: oldJob(r, 0).submittedAt,
        endedAt: oldJob(r, 0).endedAt,
      })),
      { id: crashed, pid: crashedPid, startedAt: resumable.submittedAt },
    ],
    jobs: [...jobs, resumable, ...extra],
  };
  fs.writeFileSync(path.join(out, 'jobs.json'), JSON.stringify(data, null, 2));
  return data;
}

const ids = (jobs: readonly LedgerJob[]) => jobs.map((j) => `${j.testId}/${j.jobId}`).sort();

describe('the ledger keeps what is live', () => {
  it('migrates an old ledger once, with a notice: every entry is in an archive or in jobs.json, once', async () => {
    const before = writeOldLedger();
    const ledger = new Ledger(out);
    const notices: string[] = [];
    ledger.onNotice = (m) => void notices.push(m);
    await ledger.update(() => undefined);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/moved 1000 finished job entries of 20 earlier run\(s\).*once/);
    const live = readLive(out);
    // Only the crashed run's unjudged job is left (a later run may re-attach it), with its run.
    expect(ids(live.jobs)).toEqual(['resume_me/555']);
    expect(live.runs.map((r) => r.id)).toEqual(['20250102-000000-dead']);
    expect(ids(archivedLines(out))).toEqual(ids(before.jobs.filter((j) => j.consumed)));
    expect(ids((await ledger.readAll()).jobs)).toEqual(ids(before.jobs));
    // Once: a later write moves nothing and says nothing.
    await ledger.update(() => undefined);
    expect(notices).toHaveLength(1);
    expect(archivedLines(out)).toHaveLength(RUNS * PER_RUN);
  });

  it('a crash after the archive append, before jobs.json is rewritten, leaves duplicates read once, never a loss', async () => {
    const before = writeOldLedger();
    // The archive got the entries (fsynced), jobs.json still has them: the state a crash leaves.
    await appendToArchive(
      out,
      before.jobs.filter((j) => j.consumed),
    );
    const ledger = new Ledger(out);
    ledger.onNotice = () => undefined;
    expect(ids((await ledger.readAll()).jobs)).toEqual(ids(before.jobs));
    await ledger.update(() => undefined);
    expect(archivedLines(out)).toHaveLength(2 * RUNS * PER_RUN);
    expect(ids((await ledger.readAll()).jobs)).toEqual(ids(before.jobs));
  });

  it('a run rewrites only its live jobs: a judged job leaves jobs.json in the write that consumes it', async () => {
    writeOldLedger();
    const b = new JobBroker({
      executor: new Completing(),
      ledger: new Ledger(out),
      settings: { maxJobsInFlight: 0, pollMinMs: 5, pollMaxMs: 20, resume: true },
      specFor: async (testId) => ({
        testId,
        configHash: `hash-${testId}`,
        config: {},
        configFile: `/x/${testId}.yaml`,
        localLogDir: path.join(out, 'slurm_logs', 'runs', 'r', testId),
        timeLimitMs: 60_000,
      }),
    });
    const notices: string[] = [];
    b.events.on('notice', (e) => void notices.push(e.message));
    await b.start();
    // Resume after the migration: the crashed run's job is re-attached, not submitted again.
    const [resumed, fresh] = await Promise.all([b.run('resume_me'), b.run('new_test')]);
    // As the job fixture does once its test wrote the results.
    await b.consumed('resume_me', resumed.jobId);
    await b.consumed('new_test', fresh.jobId);
    await b.close();
    expect(resumed).toMatchObject({ jobId: '555', resumed: true });
    expect(fresh.resumed).toBe(false);
    expect(notices.join('\n')).toMatch(/moved 1000 finished job entries/);
    const live = readLive(out);
    expect(live.jobs).toEqual([]);
    const all = (await new Ledger(out).readAll()).jobs;
    expect(all).toHaveLength(RUNS * PER_RUN + 2);
    expect(all.filter((j) => j.testId === 'resume_me').map((j) => [j.jobId, j.consumed])).toEqual([
      ['555', true],
    ]);
  });

  it('disagg cancel after the migration: cancels the live job of an earlier run, counts the archived ones', async () => {
    const sleeper: ChildProcess = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, DISAGG_JOB_TOKEN: 'tok-archive' },
    });
    try {
      const pid = sleeper.pid as number;
      const live: LedgerJob = {
        ...oldJob(RUNS + 1, 1),
        executor: 'local',
        jobId: String(pid),
        pid,
        procId: { startTime: processStartTime(pid) as string, token: 'tok-archive' },
        state: 'RUNNING',
        endedAt: undefined,
        consumed: false,
        runId: '20250103-000000-beef',
      };
      writeOldLedger([live]);
      const ledger = new Ledger(out);
      ledger.onNotice = () => undefined;
      await ledger.update(() => undefined); // migrated
      const exited = new Promise((r) => sleeper.once('exit', r));
      let stdout = '';
      const code = await main(['cancel', '--output-path', out, '--json'], {
        stdout: (t) => (stdout += t),
        stderr: () => undefined,
        env: { HOME: os.homedir() },
        cwd: out,
      });
      expect(code, stdout).toBe(0);
      expect(JSON.parse(stdout)).toEqual({
        cancelled: [{ testId: live.testId, jobId: live.jobId, executor: 'local' }],
        refused: [],
        alreadyEnded: [],
      });
      await exited;
      let text = '';
      await main(['cancel', '--output-path', out], {
        stdout: (t) => (text += t),
        stderr: () => undefined,
        env: { HOME: os.homedir() },
        cwd: out,
      });
      // 1,000 archived + the crashed run's completed job + the one just cancelled: all final, all seen.
      expect(text).toBe(`no live jobs in ${ledger.file} (1002 already final, left alone)\n`);
    } finally {
      if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    }
  });

  it('the report and DEBUG_MODE find an earlier run’s job after the migration', async () => {
    writeOldLedger();
    const ledger = new Ledger(out);
    ledger.onNotice = () => undefined;
    await ledger.update(() => undefined);
    // The latest run's dir of one test, linked as slurm_logs/<test>.
    const dir = runDirFor(out, runIdOf(RUNS - 1), 'test_3');
    fs.mkdirSync(dir, { recursive: true });
    linkLatest(dir);
    expect(debugOutcome(out, 'test_3', undefined).logDir).toBe(dir);
    const data = await loadOutputDir(out);
    const t = data.tests.find((x) => x.testId === 'test_3');
    // The ledger entry of that run's job (from its run's archive) tells the job id and state.
    expect(t).toMatchObject({ jobId: String(10_000 + (RUNS - 1) * PER_RUN + 3), jobState: 'COMPLETED' });
    expect(data.tests.map((x) => x.testId)).toContain('test_49');
  });
});

/** Every job completes at once. */
class Completing extends FakeExecutor {
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    return new Map(jobs.map((j) => [j.jobId, { jobId: j.jobId, state: 'COMPLETED', exitCode: '0:0' }]));
  }
}
