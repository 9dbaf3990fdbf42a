// Appends into OUTPUT_PATH never follow a symlink: whoever can write the output dir could otherwise
// redirect a run's CSV rows or history lines into any file the run may write. The file is opened with
// O_NOFOLLOW (the kernel refuses a symlink at the last path component, no check-then-open race).
import { constants } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';

function symlinkError(file: string, cause?: unknown): Error {
  return Object.assign(
    new Error(
      `${file} is a symlink: appends to the output dir never follow one (it could send this run's results ` +
        `into another file). Replace it with a regular file (or remove it), then run again`,
      { cause },
    ),
    { code: 'ELOOP' },
  );
}

/** Throws when `file` is a symlink (a missing file is fine: it will be created). */
export async function refuseSymlink(file: string): Promise<void> {
  try {
    if ((await lstat(file)).isSymbolicLink()) throw symlinkError(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

// O_NONBLOCK: a FIFO in the file's place fails the open (ENXIO) instead of hanging it.
const APPEND = constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Open `file` for appending (created when missing; `read`: readable too), refusing a symlink or
 * anything but a regular file.
 */
export async function openForAppend(file: string, read = false): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, APPEND | (read ? constants.O_RDWR : constants.O_WRONLY), 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkError(file, err);
    throw err;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw Object.assign(new Error(`${file} is not a regular file; nothing was appended to it. Remove it`), {
      code: 'ENOTREG',
    });
  }
  return fh;
}

/** What a file system error means, in words (a full disk, a read-only dir), keyed by errno code. */
const WORDS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EFBIG: 'the file is too large for the file system',
  EIO: 'an I/O error',
};

/**
 * `err` of an operation on `file` as an error that names the file, says what went wrong in words and
 * what happened (`outcome`) and keeps the errno `code` (retry logic reads it). Our own errors pass.
 */
export function namedFileError(file: string, err: unknown, outcome: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.message === 'string' && e.message.includes(file)) return e;
  const code = e?.code;
  const why = code && code in WORDS ? `${WORDS[code]} (${code})` : (e?.message ?? String(err));
  const fix =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? '; free space (or point the output somewhere else), then run again'
      : code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
        ? '; make the dir writable (or point the output somewhere else), then run again'
        : '';
  return Object.assign(new Error(`cannot write ${file}: ${why}; ${outcome}${fix}`, { cause: err }), { code });
}

/**
 * Append `text` through an open append descriptor of `file`. When the write fails (a full disk stops it
 * part-way), the file is cut back to its size before, so no torn line is left behind (best effort: a
 * crash leaves one, which the next writer repairs), and the error names the file.
 */
export async function appendThrough(fh: FileHandle, file: string, text: string): Promise<void> {
  const before = (await fh.stat()).size;
  try {
    await fh.appendFile(text, 'utf8');
  } catch (err) {
    // Truncating needs no space: the lines already there stay exactly as they were.
    const restored = await fh.truncate(before).then(
      () => true,
      () => false,
    );
    throw namedFileError(
      file,
      err,
      restored
        ? 'nothing of this write was kept, the lines already there are intact'
        : 'the end of the file may hold a torn line (the next write moves it aside)',
    );
  }
}

/** Append `text` to `file` in one write, never through a symlink; a failed write is undone (appendThrough). */
export async function appendNoFollow(file: string, text: string): Promise<void> {
  const fh = await openForAppend(file).catch((err: unknown) => {
    throw namedFileError(file, err, 'nothing was written');
  });
  try {
    await appendThrough(fh, file, text);
  } finally {
    await fh.close();
  }
}
