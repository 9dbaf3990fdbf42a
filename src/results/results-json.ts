// `results.json` in a test's log dir: every parsed metric, for reporters and later comparison.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const RESULTS_JSON_NAME = 'results.json';

/**
 * Write `<logDir>/results.json` atomically: a temp file in the same dir, then rename, so a reader
 * (or a crash mid-write) never sees half a file. Returns the path written.
 */
export async function writeResultsJson(logDir: string, data: unknown): Promise<string> {
  await mkdir(logDir, { recursive: true });
  const target = path.join(logDir, RESULTS_JSON_NAME);
  const tmp = path.join(logDir, `.${RESULTS_JSON_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, 'utf8');
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return target;
}
