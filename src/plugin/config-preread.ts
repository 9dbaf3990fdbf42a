// Vitest 4.1 reads every test file itself, in this process, before any worker starts
// (`getSpecificationsOptions`: `promises.readFile(file, "utf-8").catch(() => "")`, looking for
// `@vitest-environment` comments). A config swapped after the glob for a FIFO blocks that read for good
// (in open(), or in read() while a silent writer holds it: no signal ends it); for a device it reads
// without bound. We cannot make Vitest skip the file, so we patch as narrowly as we can: only the
// `readFile` property of `fs.promises` (the object Vitest imports as `promises`), only for our selected
// configs' exact paths, only during that window. Those go through our bounded, non-blocking regular-file
// reader; a refused one gives Vitest "" and our own load (transform.ts) fails that test alone, naming the
// file. Every other call reaches the original untouched. Re-check on every Vitest upgrade.
import fs from 'node:fs';
import type { Reporter } from 'vitest/node';
import { readRegularFile } from '../util/read-regular-file.js';

type ReadFile = typeof fs.promises.readFile;

/** The encoding a `readFile` call asked for (a string, or `{ encoding }`), if any. */
function encodingOf(options: unknown): BufferEncoding | undefined {
  if (typeof options === 'string') return options as BufferEncoding;
  if (options !== null && typeof options === 'object' && 'encoding' in options) {
    const { encoding } = options as { encoding?: BufferEncoding | null };
    return encoding ?? undefined;
  }
  return undefined;
}

/** A guard in place: `restore()` puts the original `readFile` back (once; later calls do nothing). */
export interface PrereadGuard {
  restore(): void;
}

/**
 * Makes `fs.promises.readFile` read `files` (exact paths, as Vitest names its test modules) as regular
 * files of at most `maxBytes`, refusing FIFOs, devices and directories without blocking; any other path
 * (or a file descriptor, a URL, a Buffer path) goes to the original, untouched.
 */
export function guardPreread(files: readonly string[], maxBytes: number): PrereadGuard {
  const ours = new Set(files);
  const original = fs.promises.readFile;
  const guarded = function readFile(this: unknown, ...args: unknown[]): Promise<string | Buffer> {
    const [file, options] = args;
    if (typeof file !== 'string' || !ours.has(file)) {
      return Reflect.apply(original, this, args) as Promise<string | Buffer>;
    }
    const encoding = encodingOf(options);
    return readRegularFile(file, { maxBytes }).then((buf) => (encoding ? buf.toString(encoding) : buf));
  } as ReadFile;
  fs.promises.readFile = guarded;
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      // Only our own patch is taken back: one installed over it since stays (and delegates to ours).
      if (fs.promises.readFile === guarded) fs.promises.readFile = original;
    },
  };
}

/**
 * Guards Vitest's pre-read of `files` (see above): at once (for the first run or collection, which has
 * no `onTestRunStart`) and again at each watch-mode rerun's start, until one of `files` is queued or
 * collected (Vitest queues a module only after every pre-read ended), the run ends or times out. Create it
 * when Vitest is configured, before it reads; the reporter it returns ends each window.
 */
export function configPreread(files: readonly string[], maxBytes: number): Reporter {
  const ours = new Set(files);
  let guard: PrereadGuard | undefined;
  const start = (): void => {
    if (guard || files.length === 0) return;
    guard = guardPreread(files, maxBytes);
  };
  const stop = (): void => {
    guard?.restore();
    guard = undefined;
  };
  start();
  return {
    onTestRunStart: start,
    onTestModuleQueued(module) {
      if (ours.has(module.moduleId)) stop();
    },
    onTestModuleCollected(module) {
      if (ours.has(module.moduleId)) stop();
    },
    onTestRunEnd: stop,
    onProcessTimeout: stop,
  };
}
