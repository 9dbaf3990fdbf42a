// Replacing one line near the end of a large append-only file (a step merging its part into its job's
// history line) without rewriting the whole file: the file is cut at that line and the new tail written
// after it. The new tail and the old one go first to a redo file, fsynced, so the next writer finishes a
// rewrite a crash cut short (`finishTailRewrite`) and can tell exactly what the crash left. Callers hold
// the file's lock.
import { constants } from 'node:fs';
import { open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { namedFileError } from './append-no-follow.js';
import { fsyncDir, writeFileAtomic } from './atomic-write.js';

/** Where a rewrite keeps its redo file, and where recovery moves what it cannot place (named by the caller). */
export interface TailRewriteFiles {
  redo: string;
  aside: () => string;
}

/** Tails larger than this are left to a whole-file rewrite (the redo file holds the tail twice). */
export const TAIL_REWRITE_MAX_BYTES = 8 * 1024 * 1024;

interface RedoHeader {
  /** Where the tail starts. */
  offset: number;
  /** Bytes of the new tail, then of the old one, after the header line. */
  length: number;
  old: number;
}

// No O_APPEND (a positioned write must land where it is told); never through a symlink or a FIFO.
const RDWR = constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK;

async function openRegular(file: string): Promise<FileHandle> {
  const fh = await open(file, RDWR);
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw Object.assign(new Error(`${file} is not a regular file; it was left as it was`), {
      code: 'ENOTREG',
    });
  }
  return fh;
}

async function readAt(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, to - from));
  if (buf.length) await fh.read(buf, 0, buf.length, from);
  return buf;
}

/** Cut the file at `offset`, write `tail` there, fsync: the same result however often it runs. */
async function applyTail(fh: FileHandle, offset: number, tail: Buffer): Promise<void> {
  await fh.truncate(offset);
  await fh.write(tail, 0, tail.length, offset);
  await fh.datasync();
}

/**
 * Replace the `oldLength` bytes at `offset` of `file` with `text`, writing only from `offset` to the end.
 * False (nothing done) when that tail is larger than `TAIL_REWRITE_MAX_BYTES`: the caller then rewrites
 * the file whole.
 */
export async function rewriteTail(
  file: string,
  offset: number,
  oldLength: number,
  text: Buffer,
  { redo }: Pick<TailRewriteFiles, 'redo'>,
): Promise<boolean> {
  const fh = await openRegular(file);
  try {
    const size = (await fh.stat()).size;
    if (size - offset > TAIL_REWRITE_MAX_BYTES) return false;
    const old = await readAt(fh, offset, size);
    const tail = Buffer.concat([text, old.subarray(oldLength)]);
    const header: RedoHeader = { offset, length: tail.length, old: old.length };
    // Complete or absent (a rename), and on disk before the file is touched.
    await writeFileAtomic(redo, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), tail, old]), {
      durable: true,
    });
    try {
      await applyTail(fh, offset, tail);
    } catch (err) {
      // A full disk after the cut: the old tail fits where it was (its blocks were just freed).
      const restored = await applyTail(fh, offset, old).then(
        () => true,
        () => false,
      );
      if (restored) await rm(redo, { force: true });
      // Else the redo file stays: the next writer finishes the rewrite from it.
      throw namedFileError(
        file,
        err,
        restored ? 'the line was left as it was' : `the next write finishes the line's rewrite from ${redo}`,
      );
    }
  } finally {
    await fh.close();
  }
  await rm(redo, { force: true });
  await fsyncDir(path.dirname(redo));
  return true;
}

function headerOf(text: string): RedoHeader | undefined {
  try {
    const h = JSON.parse(text) as Partial<RedoHeader>;
    const ok = [h.offset, h.length, h.old].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
    return ok ? (h as RedoHeader) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A rewrite a crash interrupted is finished from its redo file; undefined when there was none, else
 * what was done, in words. What the crash left from the line on is one of: the old tail (the crash came
 * before the cut), the old tail with lines another tool appended since (kept, after the new tail), or a
 * part of the new tail. Anything else (a tool appended after a cut) is moved aside (`aside`) first, so
 * nothing is lost.
 */
export async function finishTailRewrite(
  file: string,
  { redo, aside: asideOf }: TailRewriteFiles,
): Promise<string | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(redo);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw namedFileError(redo, err, 'the rewrite it holds was not finished');
  }
  const nl = buf.indexOf(10);
  const h = nl < 0 ? undefined : headerOf(buf.toString('utf8', 0, nl));
  if (!h || buf.length !== nl + 1 + h.length + h.old)
    throw new Error(
      `${redo}: not a redo file of a line rewrite (damaged); ${file} may end with a torn rewrite. ` +
        `Look at both, then remove ${redo}`,
    );
  const tail = buf.subarray(nl + 1, nl + 1 + h.length);
  const old = buf.subarray(nl + 1 + h.length);
  let done = `finished a line rewrite a crash had cut short (from ${redo})`;
  const fh = await openRegular(file);
  try {
    const left = await readAt(fh, h.offset, (await fh.stat()).size);
    let appended: Buffer = Buffer.alloc(0);
    // A part of the new tail (the crash came after the cut) or the old tail, maybe with lines after it
    // (before the cut); the two never look alike: the new line has no newline where the old one ends.
    if (left.length <= tail.length && tail.subarray(0, left.length).equals(left)) {
      /* finished below */
    } else if (left.length >= old.length && left.subarray(0, old.length).equals(old))
      appended = left.subarray(old.length);
    else {
      const aside = asideOf();
      await writeFile(aside, left, { flag: 'wx' });
      done += `; what followed the line was not the rewrite's (another tool appended meanwhile?): moved to ${aside}`;
    }
    await applyTail(fh, h.offset, appended.length ? Buffer.concat([tail, appended]) : tail);
  } finally {
    await fh.close();
  }
  await rm(redo, { force: true });
  await fsyncDir(path.dirname(redo));
  return done;
}
