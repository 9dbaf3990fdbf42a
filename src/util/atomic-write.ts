import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { namedFileError } from './append-no-follow.js';

/**
 * Write a file so readers never see a half-written version (and a crash leaves the old one): a temp
 * file in the same dir, then rename.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await fs.writeFile(tmp, content, { flag: 'wx' });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    // Named by the file meant (a full disk's ENOSPC names no file at all, a failed open the temp file).
    throw namedFileError(file, err, 'it was left as it was');
  }
}

/** `writeFileAtomic` for code that cannot wait (a Vite config hook). */
export function writeFileAtomicSync(file: string, content: string): void {
  fsSync.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    fsSync.writeFileSync(tmp, content, { flag: 'wx' });
    fsSync.renameSync(tmp, file);
  } catch (err) {
    fsSync.rmSync(tmp, { force: true });
    throw namedFileError(file, err, 'it was left as it was');
  }
}
