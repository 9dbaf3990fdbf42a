// The local executor signals only process groups it can prove are its jobs: a forged or stale ledger
// entry (an unrelated process, pid 1, pid 0, an old entry without identity) is refused with a reason.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createExecutor, type Executor } from '../../../src/executors/index.js';
import { processStartTime } from '../../../src/executors/process-identity.js';
import type { SubmittedJob } from '../../../src/types.js';
import { testExecutorSettings } from '../../fixtures/executor-settings.js';
import { shortSimSpec } from '../../fixtures/short-spec.js';

let work: string;
let sleeper: ChildProcess | undefined;
let ex: Executor | undefined;
const logs: string[] = [];

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-forged-'));
  logs.length = 0;
});
afterEach(async () => {
  vi.restoreAllMocks();
  if (sleeper?.pid && sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
  sleeper = undefined;
  await ex?.close();
  ex = undefined;
  rmSync(work, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An unrelated process group of our own: `sleep 30`, its own group leader, without any job token. */
function spawnSleeper(): number {
  sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  const pid = sleeper.pid;
  if (pid === undefined) throw new Error('could not start sleep 30');
  return pid;
}

function entry(pid: number | undefined, procId?: SubmittedJob['procId']): SubmittedJob {
  return {
    jobId: '4242',
    testId: 'forged',
    jobDir: work,
    pid,
    procId,
    submittedAt: new Date().toISOString(),
  };
}

async function localExecutor(): Promise<Executor> {
  ex = await createExecutor('local', testExecutorSettings(), { log: (m) => logs.push(m) });
  return ex;
}

describe('local executor: forged ledger pids', () => {
  it('never signals an unrelated process group named by a ledger entry', async () => {
    const pid = spawnSleeper();
    const start = processStartTime(pid);
    expect(start, '/proc/<pid>/stat must be readable (Linux)').toBeDefined();
    const executor = await localExecutor();
    const kill = vi.spyOn(process, 'kill');
    // An old entry (pid only), a wrong start time (pid reused), the right start time but no token.
    await executor.cancel([entry(pid)]);
    await executor.cancel([entry(pid, { startTime: '1', token: 'deadbeef' })]);
    await executor.cancel([entry(pid, { startTime: start as string, token: 'deadbeef' })]);
    expect(kill).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(true);
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatch(/not signalled: pid \d+ has no recorded start time and token .*older version/);
    expect(logs[1]).toMatch(
      /not signalled: pid \d+ started at tick \d+, not 1: the job is gone and the pid was reused/,
    );
    expect(logs[2]).toMatch(/not signalled: pid \d+ does not carry the job's DISAGG_JOB_TOKEN/);
    // And a poll of such an entry does not take the unrelated process for the job.
    const status = (await executor.poll([entry(pid, { startTime: '1', token: 'deadbeef' })])).get('4242');
    expect(status?.state).toBe('FAILED');
  });

  it('never signals pid 1, pid 0 or a negative pid, and says why', async () => {
    const executor = await localExecutor();
    const kill = vi.spyOn(process, 'kill');
    for (const pid of [1, 0, -5]) {
      await executor.cancel([entry(pid, { startTime: processStartTime(1) ?? '1', token: 'x' })]);
      await executor.cancel([entry(pid)]);
    }
    expect(kill).not.toHaveBeenCalled();
    expect(logs).toHaveLength(6);
    for (const line of logs)
      expect(line).toMatch(/not signalled: pid -?\d+ is not a job's process group \(must be > 1\)/);
  });

  it('still cancels its own job from the ledger (another executor, as after a crash)', async () => {
    const first = await createExecutor('local', testExecutorSettings());
    try {
      writeFileSync(path.join(work, 'job.sh'), 'sleep 30\n');
      const spec = { ...shortSimSpec(work, 'local_owned'), configFile: path.join(work, 'c.yaml') };
      spec.config = { ...spec.config, simulator: undefined, slurm: { script_file: 'job.sh' } };
      const job = await first.submit(spec);
      expect(job.procId?.token).toMatch(/^[0-9a-f]{32}$/);
      expect(job.procId?.startTime).toBe(processStartTime(job.pid as number));
      const second = await localExecutor();
      // A copy as the ledger holds it (JSON round trip).
      const fromLedger = JSON.parse(JSON.stringify(job)) as SubmittedJob;
      expect((await second.poll([fromLedger])).get(job.jobId)?.state).toBe('RUNNING');
      await second.cancel([fromLedger]);
      expect(logs).toEqual([]);
      let gone = false;
      for (let i = 0; i < 300 && !gone; i++) {
        await new Promise((r) => setTimeout(r, 100));
        gone = !alive(job.pid as number) || (await first.poll([job])).get(job.jobId)?.state === 'FAILED';
      }
      expect(gone).toBe(true);
    } finally {
      await first.close();
    }
  }, 300_000);
});
