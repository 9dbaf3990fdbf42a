// `disagg cancel` leaves alone what is already final: a job a Ctrl-C cancelled (CANCELLED in the ledger)
// or one that ended is never cancelled a second time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ledger, type LedgerJob } from '../../../src/broker/ledger.js';
import { main } from '../../../src/cli/main.js';
import { processStartTime } from '../../../src/executors/process-identity.js';

function job(jobId: string, state: LedgerJob['state'], endedAt?: string): LedgerJob {
  const now = new Date().toISOString();
  return {
    testId: `t${jobId}`,
    configHash: 'h',
    executor: 'local',
    // No such process: cancelling it would be an error only a final job can avoid.
    pid: 2 ** 22 + Number(jobId),
    jobId,
    jobDir: `/nowhere/${jobId}`,
    state,
    runId: 'r',
    submittedAt: now,
    updatedAt: now,
    endedAt,
    consumed: false,
  };
}

describe('disagg cancel', () => {
  it('skips jobs whose ledger state is final and says how many it left alone', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-final-'));
    const ledger = new Ledger(out);
    const ended = new Date().toISOString();
    await ledger.update((d) => {
      d.jobs.push(job('1', 'CANCELLED', ended), job('2', 'COMPLETED', ended), job('3', 'FAILED', ended));
    });
    const before = fs.readFileSync(ledger.file, 'utf8');
    let stdout = '';
    const code = await main(['cancel', '--output-path', out], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stdout += t),
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code, stdout).toBe(0);
    expect(stdout).toBe(`no live jobs in ${ledger.file} (3 already final, left alone)\n`);
    // The entries keep their own state and reason (not "disagg cancel").
    expect(JSON.parse(fs.readFileSync(ledger.file, 'utf8'))).toEqual(JSON.parse(before));
  });
});

describe('disagg cancel: forged local pids (issue 12)', () => {
  let sleeper: ChildProcess | undefined;
  afterEach(() => {
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    sleeper = undefined;
  });

  it('signals neither an unrelated process nor pid 1 or 0, and says why on stderr', async () => {
    sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = sleeper.pid as number;
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-forged-'));
    const ledger = new Ledger(out);
    const start = processStartTime(pid) as string;
    await ledger.update((d) => {
      d.jobs.push(
        { ...job('1', 'RUNNING'), pid },
        { ...job('2', 'RUNNING'), pid, procId: { startTime: start, token: 'forged' } },
        { ...job('3', 'RUNNING'), pid: 1, procId: { startTime: start, token: 'forged' } },
        { ...job('4', 'RUNNING'), pid: 0 },
      );
    });
    const kill = vi.spyOn(process, 'kill');
    let stdout = '';
    let stderr = '';
    try {
      const code = await main(['cancel', '--output-path', out], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        env: { HOME: os.homedir() },
        cwd: out,
      });
      expect(code, stdout + stderr).toBe(0);
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(pid, 0)).not.toThrow();
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/local job 1 \(t1\): not signalled: .*no recorded start time and token/);
    expect(lines[1]).toMatch(
      /local job 2 \(t2\): not signalled: .*does not carry the job's DISAGG_JOB_TOKEN/,
    );
    expect(lines[2]).toMatch(/local job 3 \(t3\): not signalled: pid 1 is not a job's process group/);
    expect(lines[3]).toMatch(/local job 4 \(t4\): not signalled: pid 0 is not a job's process group/);
  });

  it('a malformed ledger is a clear error naming the file and the entry', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-bad-'));
    fs.writeFileSync(path.join(out, 'jobs.json'), '{"version":1,"runs":[],"jobs":[null]}');
    let text = '';
    const code = await main(['cancel', '--output-path', out], {
      stdout: (t) => (text += t),
      stderr: (t) => (text += t),
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code).not.toBe(0);
    expect(text).toContain(`${path.join(out, 'jobs.json')}: jobs[0] is null, not a job entry`);
    expect(text).toMatch(/Move it aside/);
  });
});
