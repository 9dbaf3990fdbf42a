// Issue 21: the socket dirs of runs killed with kill -9 (`vitest-disagg-*` in the temp dir) are removed
// at the next start, and only those: a live run's dir (even one without its socket yet), another
// process's, a symlink or a plain file are left alone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobBroker } from '../../../src/broker/broker.js';
import { BrokerEvents } from '../../../src/broker/events.js';
import { serveBroker } from '../../../src/broker/server.js';
import { removeDeadSocketDirs, SOCKET_NAME } from '../../../src/broker/socket-dirs.js';

let tmp: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'socket-dirs-'));
});
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.length = 0;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A pid that surely belongs to no process: one that already exited and was reaped. */
const deadPid = (): number => spawnSync('true').pid as number;

function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { mode: 0o700 });
  return d;
}

/** A unix socket file whose server was killed with SIGKILL (what kill -9 of a run leaves). */
async function deadSocket(at: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', "require('net').createServer().listen(process.argv[1], () => process.stdout.write('up'))", at],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('removeDeadSocketDirs', () => {
  it('removes the dirs of dead runs, keeps live and foreign ones', async () => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    const dead = dir(`vitest-disagg-p${deadPid()}-aB3dE9`);
    fs.writeFileSync(path.join(dead, SOCKET_NAME), '');
    const live = dir(`vitest-disagg-p${sleeper.pid as number}-Zz1234`);
    const self = dir(`vitest-disagg-p${process.pid}-q1w2e3`);
    const other = dir('vitest-disagg-notes');
    // A symlink with a dead run's name, pointing at a dir that must survive.
    const target = dir('precious');
    const link = path.join(tmp, `vitest-disagg-p${deadPid()}-LnK123`);
    fs.symlinkSync(target, link);
    fs.writeFileSync(path.join(tmp, `vitest-disagg-p${deadPid()}-FiLe12`), 'not a dir');

    const removed = await removeDeadSocketDirs(tmp);
    expect(removed).toEqual([dead]);
    for (const kept of [live, self, other, target]) expect(fs.existsSync(kept), kept).toBe(true);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('older dirs without a pid: removed when their socket refuses connections or long without one', async () => {
    const deadSock = dir('vitest-disagg-Ab12Cd');
    await deadSocket(path.join(deadSock, SOCKET_NAME));
    const fresh = dir('vitest-disagg-Ef34Gh'); // a run starting: no socket yet
    const stale = dir('vitest-disagg-Ij56Kl');
    expect(await removeDeadSocketDirs(tmp)).toEqual([deadSock]);
    expect(await removeDeadSocketDirs(tmp, Date.now() + 11 * 60_000)).toEqual(
      expect.arrayContaining([fresh, stale]),
    );
  });

  it('the broker server names its dir with its pid and removes dead runs’ dirs at start', async () => {
    // In the OS temp dir the server uses: what a run killed with kill -9 leaves there.
    const dead = fs.mkdtempSync(path.join(os.tmpdir(), `vitest-disagg-p${deadPid()}-`));
    fs.writeFileSync(path.join(dead, SOCKET_NAME), '');
    const server = await serveBroker({ events: new BrokerEvents() } as unknown as JobBroker);
    try {
      const own = path.dirname(server.socketPath);
      expect(path.basename(own)).toMatch(new RegExp(`^vitest-disagg-p${process.pid}-[A-Za-z0-9]{6}$`));
      // Another run starting now (same temp dir) leaves this live run's dir alone.
      expect(await removeDeadSocketDirs(path.dirname(own))).not.toContain(own);
      expect(fs.existsSync(server.socketPath)).toBe(true);
    } finally {
      await server.close();
    }
    expect(fs.existsSync(dead)).toBe(false);
  });
});
