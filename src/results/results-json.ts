// The results file in a test's log dir: every parsed metric and verdict, for reporters and later comparison.
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import { RESULTS_JSON } from '../jobdir/files.js';

export const RESULTS_JSON_NAME = RESULTS_JSON;

/** Write the results file into `logDir` atomically. Returns the path written. */
export async function writeResultsJson(logDir: string, data: unknown): Promise<string> {
  const target = path.join(logDir, RESULTS_JSON_NAME);
  await writeFileAtomic(target, `${JSON.stringify(data, null, 2)}\n`);
  return target;
}

/** The results file's text: a regular file within the data-file bound, or a FileReadError. */
async function readText(logDir: string): Promise<string> {
  const file = path.join(logDir, RESULTS_JSON_NAME);
  return (await readRegularFile(file, { maxBytes: MAX_DATA_FILE_BYTES })).toString('utf8');
}

/** Add top-level keys to the results file of `logDir`, keeping what the other steps wrote. */
export async function mergeResultsJson(logDir: string, data: Record<string, unknown>): Promise<string> {
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(await readText(logDir)) as Record<string, unknown>;
  } catch {
    // first step to write it
  }
  return writeResultsJson(logDir, { ...current, ...data });
}

/** The results file of `logDir`, or undefined when there is none (or it is not a JSON object). */
export async function readResultsJson(logDir: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readText(logDir));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
