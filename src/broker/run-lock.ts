// One run per OUTPUT_PATH at a time: two runs writing the same job dirs, CSV and ledger lose results.
// The first real run (not `vitest list`, which touches nothing) holds `$OUTPUT_PATH/.disagg-run.lock`;
// a second one refuses at once, naming the first. A lock whose process is gone (or whose pid now
// belongs to another process: the /proc start time differs) is taken over with a notice.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputInUseError } from '../errors.js';
import { processStartTime } from '../executors/process-identity.js';
import { namedFileError } from '../util/append-no-follow.js';
import { FileReadError, readRegularFileSync } from '../util/read-regular-file.js';

export const RUN_LOCK_FILE = '.disagg-run.lock';

/** What the lock file says about the run holding it. */
export interface RunLockOwner {
  runId: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the lock was taken: tells a reused pid from the same process. */
  procStart?: string;
  host: string;
  startedAt: string;
}

export function runLockFile(outputPath: string): string {
  return path.join(outputPath, RUN_LOCK_FILE);
}

function readOwner(file: string): RunLockOwner | undefined {
  try {
    const v = JSON.parse(readText(file) ?? '') as Partial<RunLockOwner>;
    if (typeof v.pid !== 'number' || typeof v.runId !== 'string') return undefined;
    return v as RunLockOwner;
  } catch {
    return undefined;
  }
}

/** Why the owner no longer runs, or undefined when it is alive (or cannot be judged from here). */
function staleBecause(owner: RunLockOwner | undefined): string | undefined {
  if (!owner) return 'the lock file is unreadable';
  // Another machine's pid means nothing here (shared file systems): treat it as alive.
  if (owner.host !== os.hostname()) return undefined;
  if (!Number.isInteger(owner.pid) || owner.pid <= 1) return `pid ${owner.pid} is not a run's pid`;
  const start = processStartTime(owner.pid);
  if (start === undefined) {
    // No /proc (not Linux) or the process is gone: ask the kernel.
    try {
      process.kill(owner.pid, 0);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? undefined : `process ${owner.pid} is gone`;
    }
  }
  if (owner.procStart !== undefined && owner.procStart !== start)
    return `pid ${owner.pid} now belongs to another process`;
  return undefined;
}

function describe(owner: RunLockOwner): string {
  return `run ${owner.runId} (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt})`;
}

/**
 * The other live run holding this output dir, if any: a run that was refused must not write the
 * output dir's shared files (the HTML report) under the run that owns it.
 */
export function otherRunHolding(outputPath: string): RunLockOwner | undefined {
  const owner = readOwner(runLockFile(outputPath));
  if (!owner || owner.pid === process.pid || staleBecause(owner)) return undefined;
  return owner;
}

export class RunLock {
  private constructor(
    readonly file: string,
    readonly owner: RunLockOwner,
  ) {}

  /**
   * Take the lock for `runId` or throw an OutputInUseError naming the run that holds it. `notice` hears
   * a stale lock being taken over.
   */
  static acquire(outputPath: string, runId: string, notice: (message: string) => void): RunLock {
    fs.mkdirSync(outputPath, { recursive: true });
    const file = runLockFile(outputPath);
    const me: RunLockOwner = {
      runId,
      pid: process.pid,
      procStart: processStartTime(process.pid),
      host: os.hostname(),
      startedAt: new Date().toISOString(),
    };
    // Bounded: each round either takes the lock, refuses, or removes one stale lock.
    for (let round = 0; round < 5; round++) {
      try {
        fs.writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx' });
        return new RunLock(file, me);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          // A full disk creates the file but cannot fill it: leave no empty lock for the next run.
          fs.rmSync(file, { force: true });
          throw namedFileError(file, err, 'the run did not start');
        }
      }
      const text = readText(file);
      if (text === undefined) continue; // removed meanwhile: try again
      const owner = readOwner(file);
      const stale = staleBecause(owner);
      if (!stale) {
        const o = owner as RunLockOwner;
        throw new OutputInUseError(
          `OUTPUT_PATH ${outputPath} is in use by ${describe(o)}: two runs in one output dir would ` +
            `overwrite each other's job dirs and results. Wait until it ends, stop it (kill -INT ${o.pid}), ` +
            `or give this run another OUTPUT_PATH. (If no such run exists, delete ${file}.)`,
          file,
        );
      }
      // Move the stale lock aside atomically, and only if it is still the one judged stale.
      const aside = `${file}.stale-${process.pid}-${round}`;
      try {
        fs.renameSync(file, aside);
      } catch {
        continue;
      }
      if (readText(aside) !== text) {
        // Another run took the lock between our read and the rename: give it back and judge again.
        try {
          fs.linkSync(aside, file);
        } catch {
          // someone holds it again; the next round judges that one
        }
        fs.rmSync(aside, { force: true });
        continue;
      }
      fs.rmSync(aside, { force: true });
      notice(
        `taking over the lock of ${owner ? describe(owner) : 'an unknown run'} on ${outputPath}: ${stale}`,
      );
    }
    throw new OutputInUseError(
      `could not take the run lock ${file}: other runs keep taking it; start this run again`,
      file,
    );
  }

  /** Drop the lock, if it is still ours (a taken-over lock belongs to the other run now). */
  release(): void {
    const owner = readOwner(this.file);
    if (owner?.runId === this.owner.runId && owner.pid === this.owner.pid)
      fs.rmSync(this.file, { force: true });
  }
}

/** The lock file's text; undefined when it is gone. Something else in its place is an error saying what. */
function readText(file: string): string | undefined {
  try {
    return readRegularFileSync(file, { maxBytes: 64 * 1024 }).toString('utf8');
  } catch (err) {
    if (err instanceof FileReadError && (err.code === 'ENOTREG' || err.code === 'EFBIG')) {
      throw new OutputInUseError(
        `${err.message}. ${file} should be the run lock (a small JSON file); no run can hold this ` +
          `output dir while it is there: remove it (rm -r ${file}) and start the run again`,
        file,
      );
    }
    return undefined;
  }
}
