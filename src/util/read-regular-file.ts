// The one way a config, CSV, ledger, history or lock file is read: open once (non-blocking, so opening a
// FIFO cannot hang the process), fstat the open descriptor, refuse anything but a regular file, and read
// at most the size bound from that same descriptor. Never stat-then-readFile: the file checked would not
// be the file read, and a device (`/dev/zero`) or a FIFO has no size to check.
import fs from 'node:fs';

/** How many bytes a data file (perf CSV, history, ledger) may have: far above a real one, below V8's string limit. */
export const MAX_DATA_FILE_BYTES = 256 * 1024 * 1024;

export interface ReadBound {
  /** At most this many bytes are read; a larger file is refused. */
  maxBytes: number;
  /** What to do about a file over the bound (appended to the error), e.g. "raise maxConfigBytes". */
  tooLargeHint?: string;
}

/** Why a file was not read. `code`: the errno (`ENOENT`, `EACCES`, …), `ENOTREG` or `EFBIG`. */
export class FileReadError extends Error {
  /** The file's size, when it was refused for being over the bound. */
  readonly size: number | undefined;

  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; size?: number },
  ) {
    super(message, options);
    this.size = options?.size;
    this.name = 'FileReadError';
  }
}

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(file: string, st: fs.Stats): FileReadError {
  return new FileReadError(
    file,
    'ENOTREG',
    `${file} is ${kindOf(st)}, not a regular file: it was not read. Give the path of a regular file ` +
      `(a symlink is followed: check where it points)`,
  );
}

function tooLarge(file: string, size: number | undefined, bound: ReadBound): FileReadError {
  const what = size === undefined ? 'grew beyond' : `is ${size} bytes, more than`;
  return new FileReadError(
    file,
    'EFBIG',
    `${file} ${what} the limit of ${bound.maxBytes} bytes, so it was not read; ` +
      (bound.tooLargeHint ?? 'split or archive it, or check that it is the file you meant'),
    { size },
  );
}

function openError(file: string, err: unknown): FileReadError {
  const e = err as NodeJS.ErrnoException;
  const code = e.code ?? 'EIO';
  const what =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ELOOP'
          ? 'too many levels of symlinks'
          : (e.message ?? String(err));
  return new FileReadError(file, code, `cannot read ${file}: ${what}`, { cause: err });
}

/** The whole file, when it is a regular file within the bound; else a FileReadError naming it. */
export async function readRegularFile(file: string, bound: ReadBound): Promise<Buffer> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, OPEN_FLAGS);
  } catch (err) {
    throw openError(file, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notRegular(file, st);
    if (st.size > bound.maxBytes) throw tooLarge(file, st.size, bound);
    let buf: Buffer = Buffer.alloc(Math.min(st.size, bound.maxBytes) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) buf = grown(buf, file, bound);
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw openError(file, err);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * A bigger buffer for a file that grew since fstat (one byte over the size read tells it), capped one
 * byte over the bound, which is refused.
 */
function grown(buf: Buffer, file: string, bound: ReadBound): Buffer {
  if (buf.length > bound.maxBytes) throw tooLarge(file, undefined, bound);
  const bigger = Buffer.alloc(Math.min(buf.length * 2 + 64 * 1024, bound.maxBytes + 1));
  buf.copy(bigger);
  return bigger;
}

/** `readRegularFile` for code that cannot wait (config loading in a Vite hook, the CLI's validate). */
export function readRegularFileSync(file: string, bound: ReadBound): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    throw openError(file, err);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(file, st);
    if (st.size > bound.maxBytes) throw tooLarge(file, st.size, bound);
    let buf: Buffer = Buffer.alloc(Math.min(st.size, bound.maxBytes) + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) buf = grown(buf, file, bound);
      const bytesRead = fs.readSync(fd, buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw openError(file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** The file's text (UTF-8, a BOM kept), or undefined when it does not exist; other failures throw. */
export async function readRegularTextIfExists(file: string, bound: ReadBound): Promise<string | undefined> {
  try {
    return (await readRegularFile(file, bound)).toString('utf8');
  } catch (err) {
    if (err instanceof FileReadError && err.code === 'ENOENT') return undefined;
    throw err;
  }
}
