// The served software's version, when the job reports it: TensorRT-LLM workers print
// `[TensorRT-LLM] TensorRT-LLM version: 1.1.0rc2` at start-up (the simulator prints the same line).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WORKER_LOG_RE } from '../jobdir/files.js';

const VERSION_LINE = /TensorRT-LLM version:\s*(\S+)/;

/** The version from the first worker log that names one, or undefined. Only a log's first 64 KiB is read. */
export async function softwareVersion(logDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(logDir)).filter((n) => WORKER_LOG_RE.test(n)).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    const text = (await readFile(path.join(logDir, name), 'utf8')).slice(0, 64 * 1024);
    const m = VERSION_LINE.exec(text);
    if (m) return m[1];
  }
  return undefined;
}
