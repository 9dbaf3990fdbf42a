import path from 'node:path';
import { BENCH_LOG } from '../jobdir/files.js';
import { readTail } from '../util/tail.js';

// How far a running job's benchmark got, read from its log while it runs. Only a job dir readable on this
// machine (local executor, SLURM on a shared file system) gives progress; elsewhere it is unknown.

const ANNOUNCE = /^Benchmarking with concurrency (\d+)/gm;
const DONE = /^Benchmark with concurrency (\d+) done/gm;
/** Enough tail to see the current block's announce line; blocks are a few KiB. */
const TAIL_BYTES = 256 * 1024;

export interface BenchProgress {
  /** The concurrency announced last, when any was. */
  concurrency?: number;
  concurrenciesDone: number[];
}

/** The benchmark's progress in a job dir, from the tail of its log; undefined when there is no log yet. */
export async function readBenchProgress(jobDir: string): Promise<BenchProgress | undefined> {
  let text: string;
  try {
    text = await readTail(path.join(jobDir, BENCH_LOG), TAIL_BYTES);
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  const announced = [...text.matchAll(ANNOUNCE)].map((m) => Number(m[1]));
  const done = [...text.matchAll(DONE)].map((m) => Number(m[1]));
  return { concurrency: announced.at(-1), concurrenciesDone: done };
}
