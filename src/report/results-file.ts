// What the report reads from (and adds to) a job dir's results file. The perf and accuracy steps
// write `perf` and `accuracy`; the end of a run adds `run` (status, failure, timings, GPUs) so a later
// `disagg report` shows the same page.
import path from 'node:path';
import { RESULTS_JSON_NAME } from '../results/results-json.js';
import type { BenchBlock, DatasetVerdict, PerfVerdict, SloSpec } from '../types.js';
import type { ReportTest } from './model.js';
import { ParseError } from '../errors.js';
import { MAX_DATA_FILE_BYTES, readRegularTextIfExists } from '../util/read-regular-file.js';

/** The run facts a results file keeps: the report model's fields of the same names, all optional. */
export type RunRecord = Partial<
  Pick<
    ReportTest,
    | 'status'
    | 'failure'
    | 'skipReason'
    | 'jobState'
    | 'submittedAt'
    | 'runningAt'
    | 'endedAt'
    | 'queueMs'
    | 'runMs'
    | 'nodes'
    | 'gpus'
  >
>;

export interface ResultsFile {
  testId?: string;
  jobId?: string;
  perf?: { logFile?: string; blocks?: BenchBlock[]; missing?: number[]; slo?: SloSpec };
  accuracy?: { logs?: string[]; verdicts?: Array<Partial<DatasetVerdict>> };
  /** The perf step's gate checks and, without gates, its changes against history (`kind: 'delta'`). */
  gates?: PerfVerdict[];
  deltas?: PerfVerdict[];
  run?: RunRecord;
}

export const RUN_KEY = 'run';

/** `<dir>/results file`, or undefined when it is missing; a file that is not JSON is an error naming it. */
export async function readResultsFile(dir: string): Promise<ResultsFile | undefined> {
  const file = path.join(dir, RESULTS_JSON_NAME);
  const text = await readRegularTextIfExists(file, { maxBytes: MAX_DATA_FILE_BYTES });
  if (text === undefined) return undefined;
  try {
    const data = JSON.parse(text) as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new ParseError('not an object');
    return data as ResultsFile;
  } catch (err) {
    throw new ParseError(
      `${file}: not a ${RESULTS_JSON_NAME} (${(err as Error).message}); move it aside or rerun the test`,
    );
  }
}
