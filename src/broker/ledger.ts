import fs from 'node:fs/promises';
import path from 'node:path';
import type { ExecutorKind } from '../executors/types.js';
import type { JobState, ProcessIdentity } from '../types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lockFile } from '../util/file-lock.js';
import { FileReadError, MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import { checkLedger, LedgerError } from './ledger-check.js';

export { LedgerError } from './ledger-check.js';

/** One job as recorded in `$OUTPUT_PATH/jobs.json`. */
export interface LedgerJob {
  testId: string;
  configHash: string;
  executor: ExecutorKind;
  jobId: string;
  jobDir: string;
  /** The local log dir this run chose for the job (absent in ledgers of older versions). */
  localLogDir?: string;
  pid?: number;
  /** What proves `pid` is still this job before it is signalled (absent in older ledgers: never signalled). */
  procId?: ProcessIdentity;
  state: JobState;
  exitCode?: string;
  reason?: string;
  runId: string;
  submittedAt: string;
  updatedAt: string;
  endedAt?: string;
  /** True once a test has judged this job's logs: a consumed job is never re-attached. */
  consumed: boolean;
  /** Why the last `disagg cancel` did not signal this job (it stays tracked as live). */
  cancelRefused?: string;
}

/**
 * A submission about to happen (write-ahead): recorded before the executor submits, removed in the same
 * write that records the job (or when the submit surely made no job). One left behind by a dead run is
 * reconciled with the scheduler by its token at the next start.
 */
export interface LedgerIntent {
  token: string;
  testId: string;
  runId: string;
  executor: ExecutorKind;
  configHash: string;
  /** The local log dir the submitting run chose for the job. */
  localLogDir: string;
  createdAt: string;
}

export interface LedgerRun {
  id: string;
  pid: number;
  startedAt: string;
  endedAt?: string;
}

export interface LedgerData {
  version: 1;
  runs: LedgerRun[];
  jobs: LedgerJob[];
  /** Open write-ahead intents (absent in ledgers of older versions). */
  intents?: LedgerIntent[];
}

const EMPTY: LedgerData = { version: 1, runs: [], jobs: [] };
/** Keep the file small: finished history beyond this many jobs is dropped, oldest first. */
const MAX_JOBS = 2000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The job ledger. Every change is a locked read-modify-write with an atomic rename, so a crash (even
 * kill -9) leaves either the old or the new file, and two runs sharing an output dir do not lose entries.
 */
export class Ledger {
  readonly file: string;

  constructor(
    /** The output dir the ledger (and the run's job dirs) belong to. */
    readonly outputPath: string,
    /** Lock attempts of one write (default 50, ~10 s while another process holds the lock). */
    private readonly lockRetries = 50,
  ) {
    this.file = path.join(outputPath, 'jobs.json');
  }

  /**
   * The ledger as this process last read or wrote it. Once set, a file deleted or corrupted mid-run is
   * rewritten from it (the run's jobs must stay findable); before, an unreadable file is an error.
   */
  private memory: LedgerData | undefined;
  /** Told once per restore of a deleted or corrupted file. */
  onNotice: (message: string) => void = (message) => process.stderr.write(`${message}\n`);

  /** The ledger (empty if there is none); a LedgerError names the file and what is wrong with it. */
  async read(): Promise<LedgerData> {
    let text: string;
    try {
      text = (await readRegularFile(this.file, { maxBytes: MAX_DATA_FILE_BYTES })).toString('utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return structuredClone(EMPTY);
      const why =
        err instanceof FileReadError && code !== 'EACCES' ? err.message : (code ?? (err as Error).message);
      throw new LedgerError(this.file, `cannot be read (${why})`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new LedgerError(this.file, `is not valid JSON (${(err as Error).message})`);
    }
    // Never overwrite a ledger we cannot read: it may list live GPU jobs.
    checkLedger(this.file, data);
    return data as LedgerData;
  }

  /**
   * The file, or — when this process has used the ledger before and the file has since been deleted or
   * corrupted — this process's last view of it, which is then written back.
   */
  private async readOrRestore(): Promise<LedgerData> {
    let data: LedgerData;
    try {
      data = await this.read();
    } catch (err) {
      if (!this.memory || !(err instanceof LedgerError)) throw err;
      this.onNotice(`${this.file}: ${err.problem} during the run; rewriting it from this run's memory`);
      return structuredClone(this.memory);
    }
    if (this.memory && data.runs.length === 0 && data.jobs.length === 0 && this.memory.runs.length) {
      this.onNotice(`${this.file} was deleted during the run; rewriting it from this run's memory`);
      return structuredClone(this.memory);
    }
    return data;
  }

  /** Updates of this process are queued in memory; the file lock only arbitrates between processes. */
  private queue: Promise<unknown> = Promise.resolve();

  update(change: (data: LedgerData) => void): Promise<LedgerData> {
    const next = this.queue.then(() => this.updateLocked(change));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async updateLocked(change: (data: LedgerData) => void): Promise<LedgerData> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    // Only a lock held by another process is waited on; a read-only or full disk fails at once.
    const release = await lockFile(path.dirname(this.file), {
      lockfilePath: `${this.file}.lock`,
      retries: this.lockRetries,
      minTimeout: 20,
      maxTimeout: 200,
      factor: 2,
      stale: 10_000,
    });
    try {
      const data = await this.readOrRestore();
      change(data);
      if (data.jobs.length > MAX_JOBS) {
        const live = (j: LedgerJob) => !j.endedAt || !j.consumed;
        const removable = data.jobs.filter((j) => !live(j)).slice(0, data.jobs.length - MAX_JOBS);
        const drop = new Set(removable);
        data.jobs = data.jobs.filter((j) => !drop.has(j));
      }
      data.runs = data.runs
        .filter(
          (r) =>
            !r.endedAt ||
            data.jobs.some((j) => j.runId === r.id) ||
            (data.intents ?? []).some((i) => i.runId === r.id),
        )
        .slice(-200);
      await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
      this.memory = structuredClone(data);
      return data;
    } finally {
      await release();
    }
  }

  /** Runs still going on: not ended, and their process alive (or this process). */
  static liveRuns(data: LedgerData, selfPid: number = process.pid): Set<string> {
    return new Set(
      data.runs.filter((r) => !r.endedAt && (r.pid === selfPid || pidAlive(r.pid))).map((r) => r.id),
    );
  }

  /** Runs that started but never ended and whose process is gone: they crashed (or were kill -9'd). */
  static crashedRuns(data: LedgerData, selfPid: number = process.pid): LedgerRun[] {
    return data.runs.filter((r) => !r.endedAt && r.pid !== selfPid && !pidAlive(r.pid));
  }
}
