import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputInUseError } from '../../../src/errors.js';
import { otherRunHolding, RunLock, runLockFile, type RunLockOwner } from '../../../src/broker/run-lock.js';
import { processStartTime } from '../../../src/executors/process-identity.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'run-lock-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function writeOwner(owner: Partial<RunLockOwner>): void {
  fs.writeFileSync(
    runLockFile(out),
    JSON.stringify({ runId: 'r-old', host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', ...owner }),
  );
}

describe('run lock (one run per OUTPUT_PATH)', () => {
  it('is taken, refuses a second run naming the first (pid, start time, run id), and is released', () => {
    const notices: string[] = [];
    const first = RunLock.acquire(out, 'run-A', (m) => notices.push(m));
    let err: unknown;
    try {
      RunLock.acquire(out, 'run-B', (m) => notices.push(m));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutputInUseError);
    const message = (err as Error).message;
    expect(message).toContain(
      `OUTPUT_PATH ${out} is in use by run run-A (pid ${process.pid} on ${os.hostname()}, started ${first.owner.startedAt})`,
    );
    expect(message).toContain(`kill -INT ${process.pid}`);
    expect(message).toContain('another OUTPUT_PATH');
    expect(notices).toEqual([]);
    first.release();
    expect(fs.existsSync(runLockFile(out))).toBe(false);
    RunLock.acquire(out, 'run-B', () => undefined).release();
  });

  it('tells which other live run holds the output dir (none for our own lock or a dead one)', () => {
    expect(otherRunHolding(out)).toBeUndefined();
    const mine = RunLock.acquire(out, 'run-A', () => undefined);
    expect(otherRunHolding(out)).toBeUndefined();
    mine.release();
    writeOwner({ pid: spawnSync('true').pid as number });
    expect(otherRunHolding(out)).toBeUndefined();
    writeOwner({ pid: process.ppid });
    expect(otherRunHolding(out)).toMatchObject({ runId: 'r-old', pid: process.ppid });
  });

  it('takes over the lock of a dead process with a notice', () => {
    const dead = spawnSync('true').pid as number;
    writeOwner({ pid: dead });
    const notices: string[] = [];
    const lock = RunLock.acquire(out, 'run-new', (m) => notices.push(m));
    expect(notices).toEqual([
      `taking over the lock of run r-old (pid ${dead} on ${os.hostname()}, started 2026-01-01T00:00:00.000Z) on ${out}: process ${dead} is gone`,
    ]);
    expect((JSON.parse(fs.readFileSync(runLockFile(out), 'utf8')) as RunLockOwner).runId).toBe('run-new');
    lock.release();
  });

  it('takes over when the pid now belongs to another process (start time differs)', async () => {
    const other = spawn('sleep', ['30']);
    try {
      const pid = other.pid as number;
      await new Promise((r) => setTimeout(r, 50));
      expect(processStartTime(pid)).toBeDefined();
      writeOwner({ pid, procStart: '1' });
      const notices: string[] = [];
      RunLock.acquire(out, 'run-new', (m) => notices.push(m)).release();
      expect(notices[0]).toMatch(new RegExp(`pid ${pid} now belongs to another process$`));
      // The same live process (matching start time) holds it.
      writeOwner({ pid, procStart: processStartTime(pid) });
      expect(() => RunLock.acquire(out, 'run-new', () => undefined)).toThrow(OutputInUseError);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('an unreadable lock file is stale; a lock taken over by another run is not released by the old one', () => {
    fs.writeFileSync(runLockFile(out), '{not json');
    const notices: string[] = [];
    const a = RunLock.acquire(out, 'run-A', (m) => notices.push(m));
    expect(notices[0]).toMatch(/the lock file is unreadable$/);
    writeOwner({ runId: 'run-B', pid: process.pid });
    a.release();
    expect(fs.existsSync(runLockFile(out))).toBe(true);
  });
});
