// Queue and run times from the job's own start and end, also for a job that started and ended between
// two polls (no RUNNING state was ever seen).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExecutor } from '../../../src/executors/index.js';
import { parseSacct, parseScontrol, parseSlurmTime } from '../../../src/executors/slurm-state.js';
import { EXIT_CODE_FILE, JOB_END_FILE, JOB_START_FILE } from '../../../src/jobdir/files.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';

const local = (text: string): string => new Date(text).toISOString();

describe('SLURM start and end of a job that finished between two polls', () => {
  it('sacct Start/End give the job its own times; a pending job has none', () => {
    const m = parseSacct(
      '42|COMPLETED|0:0|2024-05-01T12:00:05|2024-05-01T12:00:12|None\n' +
        '43|PENDING|0:0|2024-05-01T13:00:00|Unknown|Priority\n' +
        '44|CANCELLED by 1001|0:0|None|2024-05-01T12:00:09|None\n',
      true,
    );
    expect(m.get('42')).toMatchObject({
      state: 'COMPLETED',
      startedAt: local('2024-05-01T12:00:05'),
      endedAt: local('2024-05-01T12:00:12'),
    });
    expect(m.get('43')).toMatchObject({ state: 'PENDING', reason: 'Priority' });
    expect(m.get('43')?.startedAt).toBeUndefined();
    expect(m.get('44')).toMatchObject({ state: 'CANCELLED', reason: 'cancelled by uid 1001' });
    expect(m.get('44')?.startedAt).toBeUndefined();
  });

  it('scontrol StartTime/EndTime; a running job’s EndTime (its time limit) is not an end', () => {
    const done = parseScontrol(
      'JobId=42 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0 ' +
        'StartTime=2024-05-01T12:00:05 EndTime=2024-05-01T12:00:12 NodeList=node1',
    ).get('42');
    expect(done).toMatchObject({
      startedAt: local('2024-05-01T12:00:05'),
      endedAt: local('2024-05-01T12:00:12'),
    });
    const running = parseScontrol(
      'JobId=43 JobState=RUNNING Reason=None StartTime=2024-05-01T12:00:05 EndTime=2024-05-01T13:00:05',
    ).get('43');
    expect(running?.startedAt).toBe(local('2024-05-01T12:00:05'));
    expect(running?.endedAt).toBeUndefined();
    expect(parseSlurmTime('Unknown')).toBeUndefined();
  });

  it('the SLURM executor reports them on the final status (sacct)', async () => {
    const calls: string[] = [];
    const ok = (stdout: string) => ({ code: 0, stdout, stderr: '' });
    const host = {
      description: 'fake',
      exec: async (c: string) => {
        calls.push(c);
        if (c.startsWith('squeue')) return ok('');
        if (c.startsWith('sacct'))
          return ok('42|COMPLETED|0:0|2024-05-01T12:00:05|2024-05-01T12:00:12|None\n');
        return ok('');
      },
      mkdirp: async () => undefined,
      writeFile: async () => undefined,
      getFile: async () => undefined,
      listFiles: async () => [],
      homeDir: async () => '/home/u',
      close: async () => undefined,
    };
    const ex = await createExecutor('slurm', testExecutorSettings(), { host });
    try {
      const job = { jobId: '42', testId: 't', jobDir: '/r/t', submittedAt: local('2024-05-01T12:00:00') };
      const status = (await ex.poll([job])).get('42');
      expect(status).toMatchObject({
        state: 'COMPLETED',
        startedAt: local('2024-05-01T12:00:05'),
        endedAt: local('2024-05-01T12:00:12'),
      });
      expect(calls.find((c) => c.startsWith('sacct'))).toContain('JobID,State,ExitCode,Start,End,Reason');
    } finally {
      await ex.close();
    }
  });
});

describe('local start and end of a job that finished between two polls', () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'disagg-job-times-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('a job of another run reads the times its wrapper wrote', async () => {
    writeFileSync(path.join(work, JOB_START_FILE), '1714564805\n');
    writeFileSync(path.join(work, JOB_END_FILE), '1714564812\n');
    writeFileSync(path.join(work, EXIT_CODE_FILE), '0\n');
    const ex = await createExecutor('local', testExecutorSettings());
    try {
      const job = { jobId: '1', testId: 't', jobDir: work, submittedAt: '2024-05-01T12:00:00Z' };
      expect((await ex.poll([job])).get('1')).toMatchObject({
        state: 'COMPLETED',
        startedAt: new Date(1714564805_000).toISOString(),
        endedAt: new Date(1714564812_000).toISOString(),
      });
    } finally {
      await ex.close();
    }
  });
});
