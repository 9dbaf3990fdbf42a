// The broker's socket dir in the OS temp dir: `vitest-disagg-p<pid>-XXXXXX` (mode 0700, made by mkdtemp).
// A run killed with kill -9 never removes its dir; the next run removes the dirs of dead runs at start.
// The owner's pid is in the dir's name, written atomically by mkdtemp, so a live run's dir (even one
// created a moment ago, before its socket exists) is never mistaken for a dead one.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'vitest-disagg-';
const OURS = /^vitest-disagg-p(\d+)-[A-Za-z0-9]{6}$/;
/** Dirs of versions before the pid was in the name: only the socket can tell whether they are alive. */
const LEGACY = /^vitest-disagg-[A-Za-z0-9]{6}$/;
/** A legacy dir without a socket is left alone this long (its run may be starting). */
const LEGACY_GRACE_MS = 10 * 60_000;
export const SOCKET_NAME = 'broker.sock';

/** A new socket dir of this process: `<tmp>/vitest-disagg-p<pid>-XXXXXX`. */
export function makeSocketDir(tmp = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(tmp, `${PREFIX}p${process.pid}-`));
}

function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does anything accept connections on this unix socket? false only when it surely does not. */
function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) =>
      resolve(!['ECONNREFUSED', 'ENOENT'].includes(err.code ?? '')),
    );
  });
}

async function dead(dir: string, name: string, st: fs.Stats, now: number): Promise<boolean> {
  const ours = OURS.exec(name);
  if (ours) return Number(ours[1]) !== process.pid && !pidAlive(Number(ours[1]));
  if (!LEGACY.test(name)) return false;
  const socket = path.join(dir, SOCKET_NAME);
  if (fs.existsSync(socket)) return !(await socketAnswers(socket));
  return now - st.mtimeMs > LEGACY_GRACE_MS;
}

/**
 * Remove the socket dirs of dead runs of this user from `tmp`: a dir whose owner pid is gone, or (older
 * versions) whose socket refuses connections. Never follows a symlink, never touches another user's dir;
 * best effort (an error leaves the dir). Returns the dirs removed.
 */
export async function removeDeadSocketDirs(tmp = os.tmpdir(), now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(PREFIX));
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names.slice(0, 10_000)) {
    const dir = path.join(tmp, name);
    try {
      const st = fs.lstatSync(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (!(await dead(dir, name, st, now))) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}
