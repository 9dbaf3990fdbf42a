// A cross-process file lock (proper-lockfile's atomic mkdir) that waits only for another holder. Its own
// retry loop retries every error, so a read-only dir (EROFS), a missing permission (EACCES) or a full
// disk (ENOSPC) took minutes to fail; here only "held by someone else" (ELOCKED) is waited on, and any
// other error fails at once, naming the lock and what to do.
import lockfile from 'proper-lockfile';

export interface LockOptions {
  /** Where the lock dir is made (default `<file>.lock`). */
  lockfilePath?: string;
  /** A lock older than this (ms) is taken over: its holder died. */
  stale: number;
  /** Attempts while another process holds the lock, with growing waits. */
  retries: number;
  minTimeout: number;
  maxTimeout: number;
  factor?: number;
  /** The lock was lost while held (default: thrown from a timer, which kills the process). */
  onCompromised?: (err: Error) => void;
  /** Waits between attempts (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/** Errors no retry can fix: the file system refuses, whoever holds the lock. */
const HOPELESS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EISDIR: 'a directory is in the way',
  ENOTDIR: 'a file is in the way of a directory on the path',
  ENOENT: 'its directory does not exist',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many levels of symlinks',
};

/** Whether an error of a file operation can go away by trying again later. */
export function isRetryableFileError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === undefined || !(code in HOPELESS);
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Lock `file`; resolves to the release function. Throws at once on an error no wait can fix. */
export async function lockFile(file: string, options: LockOptions): Promise<() => Promise<void>> {
  const lockPath = options.lockfilePath ?? `${file}.lock`;
  const sleep = options.sleep ?? defaultSleep;
  const factor = options.factor ?? 1.2;
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(file, {
        realpath: false, // the file may not exist yet
        lockfilePath: lockPath,
        stale: options.stale,
        retries: 0,
        ...(options.onCompromised ? { onCompromised: options.onCompromised } : {}),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') {
        const why = code && code in HOPELESS ? `${HOPELESS[code]} (${code})` : (err as Error).message;
        throw Object.assign(
          new Error(
            `cannot take the lock ${lockPath} for ${file}: ${why}. Nothing was written; make the dir ` +
              `writable (or free space), or point the output somewhere else, then run again`,
            { cause: err },
          ),
          { code },
        );
      }
      if (attempt >= options.retries) {
        throw Object.assign(
          new Error(
            `${file} stayed locked by another process (${lockPath}: ${(err as Error).message.toLowerCase()}) ` +
              `through ${attempt + 1} attempts; ` +
              `if no other run is writing it, delete ${lockPath}`,
            { cause: err },
          ),
          { code },
        );
      }
      const wait = Math.min(options.maxTimeout, options.minTimeout * factor ** attempt);
      await sleep(Math.round(wait * (1 + Math.random())));
    }
  }
}
