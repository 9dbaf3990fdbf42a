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

/** Append `text` to `file` in one write, never through a symlink. */
export async function appendNoFollow(file: string, text: string): Promise<void> {
  const fh = await openForAppend(file);
  try {
    await fh.appendFile(text, 'utf8');
  } finally {
    await fh.close();
  }
}
