// What `jobs.json` must look like before anything trusts it: a hand-edited or truncated ledger must fail
// with the file, the entry and what is wrong, not with `Cannot read properties of null` deep in a run.

/** The ledger is unreadable or malformed; the message names the file, the entry and what to do. */
export class LedgerError extends Error {
  constructor(
    readonly file: string,
    /** What is wrong, without the advice. */
    readonly problem: string,
  ) {
    super(
      `${file}: ${problem}. This is not a usable vitest-disagg job ledger. Move it aside ` +
        `(e.g. \`mv ${file} ${file}.bad\`; it may list running jobs: check it first), then rerun.`,
    );
    this.name = 'LedgerError';
  }
}

const JOB_STRINGS = ['testId', 'executor', 'jobId', 'jobDir', 'state', 'runId'] as const;
const INTENT_STRINGS = ['token', 'testId', 'runId', 'executor', 'localLogDir'] as const;
const RUN_STRINGS = ['id', 'startedAt'] as const;

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws a LedgerError unless `data` has the shape the broker, `disagg cancel` and the report rely on. */
export function checkLedger(file: string, data: unknown): void {
  if (!isRecord(data)) throw new LedgerError(file, `the top level is ${describe(data)}, not an object`);
  if (data.version !== 1)
    throw new LedgerError(file, `"version" is ${JSON.stringify(data.version) ?? 'missing'}, not 1`);
  if (!Array.isArray(data.jobs))
    throw new LedgerError(file, `"jobs" is ${describe(data.jobs)}, not an array`);
  if (!Array.isArray(data.runs))
    throw new LedgerError(file, `"runs" is ${describe(data.runs)}, not an array`);
  data.jobs.forEach((job: unknown, i) => {
    if (!isRecord(job))
      throw new LedgerError(file, `jobs[${i}] is ${describe(job)}, not a job entry (an object)`);
    for (const key of JOB_STRINGS)
      if (typeof job[key] !== 'string' || job[key] === '')
        throw new LedgerError(file, `jobs[${i}].${key} is ${describe(job[key])}, not a non-empty string`);
    if (job.pid !== undefined && !Number.isSafeInteger(job.pid))
      throw new LedgerError(file, `jobs[${i}].pid is ${describe(job.pid)}, not an integer`);
    const id = job.procId;
    if (
      id !== undefined &&
      !(isRecord(id) && typeof id.startTime === 'string' && typeof id.token === 'string')
    )
      throw new LedgerError(file, `jobs[${i}].procId is not {startTime, token} strings`);
  });
  if (data.intents !== undefined && !Array.isArray(data.intents))
    throw new LedgerError(file, `"intents" is ${describe(data.intents)}, not an array`);
  (data.intents ?? []).forEach((intent: unknown, i) => {
    if (!isRecord(intent))
      throw new LedgerError(file, `intents[${i}] is ${describe(intent)}, not an intent entry (an object)`);
    for (const key of INTENT_STRINGS)
      if (typeof intent[key] !== 'string' || intent[key] === '')
        throw new LedgerError(
          file,
          `intents[${i}].${key} is ${describe(intent[key])}, not a non-empty string`,
        );
  });
  data.runs.forEach((run: unknown, i) => {
    if (!isRecord(run))
      throw new LedgerError(file, `runs[${i}] is ${describe(run)}, not a run entry (an object)`);
    for (const key of RUN_STRINGS)
      if (typeof run[key] !== 'string')
        throw new LedgerError(file, `runs[${i}].${key} is ${describe(run[key])}, not a string`);
    if (!Number.isSafeInteger(run.pid))
      throw new LedgerError(file, `runs[${i}].pid is ${describe(run.pid)}, not an integer`);
  });
}
