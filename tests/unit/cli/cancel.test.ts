// `disagg cancel` leaves alone what is already final: a job a Ctrl-C cancelled (CANCELLED in the ledger)
// or one that ended is never cancelled a second time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Ledger, type LedgerJob } from '../../../src/broker/ledger.js';
import { main } from '../../../src/cli/main.js';
import { JOB_TOKEN_VAR, processStartTime } from '../../../src/executors/process-identity.js';

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
    const before = await ledger.read();
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
    expect((await new Ledger(out).read()).jobs).toEqual(before.jobs);
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
      // Refusing anything is a failure of the command (issue 21): nothing it refused is "cancelled".
      expect(code, stdout + stderr).toBe(1);
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(pid, 0)).not.toThrow();
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/3 job\(s\) not cancelled/);
    expect(stdout).not.toMatch(/^cancelled/m);
    expect(stdout).toMatch(/^REFUSED local job 1 \(t1\): .*still tracked in /m);
    // Job 2's pid is not the job's (its token differs): the job is gone, nothing to cancel.
    expect(stdout).toMatch(/^not cancelled local job 2 \(t2\): already ended/m);
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

describe('disagg cancel tells the truth (issue 21)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
  });

  /** A process group that carries a job token, like a local job: provably ours. */
  function fakeJob(token: string): ChildProcess {
    const child = spawn('sleep', ['30'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, [JOB_TOKEN_VAR]: token },
    });
    children.push(child);
    return child;
  }

  it('lists only what it signalled, exits 1 on a refusal and keeps the refused job tracked', async () => {
    const ours = fakeJob('a'.repeat(32));
    const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    children.push(stranger);
    const oursExit = new Promise((r) => ours.once('exit', r));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-truth-'));
    const ledger = new Ledger(out);
    const oursPid = ours.pid as number;
    const strangerPid = stranger.pid as number;
    await ledger.update((d) => {
      d.jobs.push(
        {
          ...job('11', 'RUNNING'),
          pid: oursPid,
          procId: { startTime: processStartTime(oursPid) as string, token: 'a'.repeat(32) },
        },
        // An entry of an older version: no identity, so never signalled.
        { ...job('12', 'RUNNING'), pid: strangerPid },
      );
    });
    let stdout = '';
    let stderr = '';
    const code = await main(['cancel', '--output-path', out, '--json'], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code, stdout + stderr).toBe(1);
    const json = JSON.parse(stdout) as {
      cancelled: Array<{ jobId: string }>;
      refused: Array<{ jobId: string; reason: string }>;
      alreadyEnded: unknown[];
    };
    expect(json.cancelled.map((j) => j.jobId)).toEqual(['11']);
    expect(json.refused).toEqual([
      expect.objectContaining({
        jobId: '12',
        reason: expect.stringMatching(/no recorded start time and token/),
      }),
    ]);
    expect(json.alreadyEnded).toEqual([]);
    // The signalled job really ends; the refused one still runs and is still tracked as live.
    await oursExit;
    expect(() => process.kill(strangerPid, 0)).not.toThrow();
    const after = await ledger.readAll(); // the cancelled job may be archived already
    const byId = new Map(after.jobs.map((j) => [j.jobId, j]));
    expect(byId.get('11')).toMatchObject({ state: 'CANCELLED', reason: 'disagg cancel' });
    expect(byId.get('12')?.state).toBe('RUNNING');
    expect(byId.get('12')?.endedAt).toBeUndefined();
    expect(byId.get('12')?.cancelRefused).toMatch(/disagg cancel at .*: .*no recorded start time and token/);
  });

  it('a job already gone is neither cancelled nor refused: it is left for the next run to collect', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-gone-'));
    const ledger = new Ledger(out);
    const ended = fakeJob('b'.repeat(32));
    const pid = ended.pid as number;
    const startTime = processStartTime(pid) as string;
    const gone = new Promise((r) => ended.once('exit', r));
    ended.kill('SIGKILL');
    await gone;
    await ledger.update((d) => {
      d.jobs.push({ ...job('21', 'RUNNING'), pid, procId: { startTime, token: 'b'.repeat(32) } });
    });
    let stdout = '';
    const code = await main(['cancel', '--output-path', out, '--json'], {
      stdout: (t) => (stdout += t),
      stderr: () => undefined,
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ cancelled: [], refused: [], alreadyEnded: [{ jobId: '21' }] });
    expect((await ledger.read()).jobs[0]).toMatchObject({ state: 'RUNNING' });
  });
});

describe('disagg cancel: the project config is loaded only when needed (issue 22)', () => {
  /** A project whose vitest.config throws when loaded: loading it shows as an error naming it. */
  function brokenProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-config-'));
    fs.writeFileSync(path.join(dir, 'vitest.config.mjs'), "throw new Error('config was loaded');\n");
    return dir;
  }
  const run = async (args: string[], cwd: string) => {
    let out = '';
    const code = await main(['cancel', ...args], {
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
      env: { HOME: os.homedir() },
      cwd,
    });
    return { code, out };
  };

  it('with --output-path and no live job, answers from the ledger without loading the config', async () => {
    const project = brokenProject();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-noconfig-'));
    const ledger = new Ledger(out);
    await ledger.update((d) => void d.jobs.push(job('1', 'COMPLETED', new Date().toISOString())));
    const r = await run(['--output-path', out], project);
    expect(r.out).toBe(`no live jobs in ${ledger.file} (1 already final, left alone)\n`);
    expect(r.code).toBe(0);
  });

  it('loads the config for the executor settings as soon as a job is live', async () => {
    const project = brokenProject();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-live-'));
    const ledger = new Ledger(out);
    await ledger.update((d) => void d.jobs.push(job('1', 'RUNNING')));
    const before = await ledger.read();
    const r = await run(['--output-path', out], project);
    expect(r.out).toContain('config was loaded');
    expect(r.code).not.toBe(0);
    // Nothing was signalled or written: the job stays live in the ledger.
    expect(await new Ledger(out).read()).toEqual(before);
  });

  it('without --output-path, loads the config (it may set the output path)', async () => {
    const project = brokenProject();
    const r = await run([], project);
    expect(r.out).toContain('config was loaded');
    expect(r.code).not.toBe(0);
  });
});
