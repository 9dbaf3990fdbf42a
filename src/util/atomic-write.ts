import { randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { namedFileError } from './append-no-follow.js';

/** Makes a rename or a new name in `dir` durable; best effort (not every platform can open a dir). */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await fs.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

/**
 * Write a file so readers never see a half-written version (and a crash leaves the old one): a temp
 * file in the same dir, then rename.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  /** `durable`: the content and the rename are fsynced (a file that replaces a journal it folds in). */
  options: { durable?: boolean } = {},
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    if (options.durable) {
      const h = await fs.open(tmp, 'wx');
      try {
        await h.writeFile(content);
        await h.sync();
      } finally {
        await h.close();
      }
    } else await fs.writeFile(tmp, content, { flag: 'wx' });
    await fs.rename(tmp, file);
    if (options.durable) await fsyncDir(path.dirname(file));
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
