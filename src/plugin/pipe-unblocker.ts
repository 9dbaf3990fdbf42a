// Before any worker starts, Vitest reads every test file itself (`getSpecificationsOptions` in Vitest 4.1
// looks for `@vitest-environment` comments) with a plain `readFile`. A config swapped for a FIFO after the
// glob blocks that read in `open()` on a libuv thread, so the run never starts its tests, never finishes
// a graceful cancel, and the process cannot exit. We cannot make Vitest skip the file, but we can end the
// wait: opening the FIFO for writing without blocking and closing it again lets the blocked reader's
// `open()` return and its read see end-of-file. Vitest then finds no pragma, and our own non-blocking load
// (transform.ts) fails that one test, naming the file as a FIFO. Re-check on every Vitest upgrade.
import fs from 'node:fs';
import type { Reporter } from 'vitest/node';

/** How often the selected configs are checked while Vitest may be reading them (bounds the stall). */
export const UNBLOCK_EVERY_MS = 100;

const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_NONBLOCK;

/**
 * Lets any reader blocked opening `file` go on (with end-of-file), when `file` is a FIFO; true if it
 * was one. Without a reader the open fails (ENXIO) and nothing happens.
 */
export async function unblockFifo(file: string): Promise<boolean> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch {
    return false;
  }
  if (!st.isFIFO()) return false;
  try {
    // Non-blocking: never waits for a reader. No O_CREAT nor O_TRUNC, and nothing is written: a file
    // swapped back in between the stat and the open is opened and closed untouched.
    const handle = await fs.promises.open(file, WRITE_FLAGS);
    try {
      return (await handle.stat()).isFIFO();
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/**
 * Watches `files` until Vitest has read them all (one of them is queued in a worker only after every read
 * ended) or the run ends, unblocking any that is a FIFO. Create it before Vitest reads (when Vitest is
 * configured): it starts at once and at each run's start; the reporter it returns stops it.
 */
export function pipeUnblocker(files: readonly string[]): Reporter {
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    for (const file of files) {
      if (stopped) return;
      await unblockFifo(file);
    }
    // Sequential ticks: a slow file system never piles up checks.
    if (!stopped) timer = setTimeout(() => void tick(), UNBLOCK_EVERY_MS).unref();
  };
  const start = (): void => {
    if (!stopped || files.length === 0) return;
    stopped = false;
    void tick();
  };
  const stop = (): void => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  // Now, for the first run or collection (a collection has no `onTestRunStart`).
  start();
  const ours = new Set(files);
  return {
    // Again for each rerun in watch mode: Vitest reads the test files again.
    onTestRunStart: start,
    onTestModuleQueued(module) {
      if (ours.has(module.moduleId)) stop();
    },
    onTestRunEnd: stop,
    onProcessTimeout: stop,
  };
}
