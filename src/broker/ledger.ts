import fs from 'node:fs/promises';
import path from 'node:path';
import { RUN_JOBS_ARCHIVE } from '../jobdir/files.js';
import { TERMINAL_STATES } from '../types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lockFile } from '../util/file-lock.js';
import { FileReadError, MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import type { LedgerData, LedgerIntent, LedgerJob, LedgerRun } from './ledger-types.js';
import { appendToArchive, mergeJobs, readArchive } from './ledger-archive.js';
import { checkLedger, LedgerError } from './ledger-check.js';

export { LedgerError } from './ledger-check.js';

export type { LedgerData, LedgerIntent, LedgerJob, LedgerRun } from './ledger-types.js';

const EMPTY: LedgerData = { version: 1, runs: [], jobs: [] };

export type LedgerChange = (data: LedgerData, view: LedgerView) => void;

/**
 * Indexed access to the ledger during one write, so that a batch of N changes costs O(N + live), not
 * O(N × live): finding a job, adding one, dropping an intent by token.
 */
export class LedgerView {
  private byKey?: Map<string, LedgerJob>;
  private indexed = 0;
  private dropped = new Set<string>();
  private runsWithEntries?: Set<string>;

  constructor(private readonly data: LedgerData) {}

  private index(): Map<string, LedgerJob> {
    if (!this.byKey || this.indexed !== this.data.jobs.length || this.data.jobs !== this.indexedJobs) {
      this.byKey = new Map(this.data.jobs.map((j) => [`${j.jobId}\u0000${j.testId}`, j]));
      this.indexed = this.data.jobs.length;
      this.indexedJobs = this.data.jobs;
    }
    return this.byKey;
  }
  private indexedJobs?: LedgerJob[];

  findJob(jobId: string, testId: string): LedgerJob | undefined {
    return this.index().get(`${jobId}\u0000${testId}`);
  }

  /** Adds the job unless one with its job id and test is there already; true when added. */
  addJob(job: LedgerJob): boolean {
    const index = this.index();
    const key = `${job.jobId}\u0000${job.testId}`;
    if (index.has(key)) return false;
    this.data.jobs.push(job);
    index.set(key, job);
    this.indexed = this.data.jobs.length;
    return true;
  }

  addIntent(intent: LedgerIntent): void {
    this.settle();
    (this.data.intents ??= []).push(intent);
  }

  removeIntent(token: string): void {
    this.dropped.add(token);
  }

  /** The open intents (intents dropped in this write already left out). */
  intents(): LedgerIntent[] {
    this.settle();
    return this.data.intents ?? [];
  }

  /** Applies the intents dropped so far. */
  settle(): void {
    if (!this.dropped.size || !this.data.intents) return;
    const dropped = this.dropped;
    this.data.intents = this.data.intents.filter((i) => !dropped.has(i.token));
    this.dropped = new Set();
  }

  runHasEntries(runId: string): boolean {
    if (!this.runsWithEntries) {
      this.runsWithEntries = new Set(this.data.jobs.map((j) => j.runId));
      for (const i of this.data.intents ?? []) this.runsWithEntries.add(i.runId);
    }
    return this.runsWithEntries.has(runId);
  }
}

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

  /** Changes waiting for the next write; all changes queued while a write is under way go in the next one. */
  private pending: Array<{
    change: LedgerChange;
    resolve: (data: LedgerData) => void;
    reject: (err: unknown) => void;
  }> = [];
  private writing = false;
  /** inode, size and mtime of the file as this process last wrote it: unchanged means no re-read. */
  private stamp?: string;

  /**
   * Apply `change` in a locked read-modify-write. Changes queued while a write is under way are applied
   * together in the next write (a burst of 1,000 submissions is a few writes, not 1,000); each promise
   * resolves once the write holding its change is on disk. The file lock only arbitrates between processes.
   */
  update(change: LedgerChange): Promise<LedgerData> {
    return new Promise((resolve, reject) => {
      this.pending.push({ change, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // One turn of the event loop first: the changes of a burst (a tick's collected jobs) share a write.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0);
        try {
          const { data, failed } = await this.updateLocked(batch.map((b) => b.change));
          batch.forEach((b, i) => (failed.has(i) ? b.reject(failed.get(i)) : b.resolve(data)));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async fileStamp(): Promise<string | undefined> {
    try {
      const st = await fs.stat(this.file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  private async updateLocked(
    changes: LedgerChange[],
  ): Promise<{ data: LedgerData; failed: Map<number, unknown> }> {
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
      // Unchanged since this process wrote it: no need to parse it again (a 10,000-job run's ledger).
      const unchanged = this.memory && this.stamp !== undefined && this.stamp === (await this.fileStamp());
      const data = unchanged ? (this.memory as LedgerData) : await this.readOrRestore();
      this.stamp = undefined;
      const view = new LedgerView(data);
      const failed = new Map<number, unknown>();
      changes.forEach((change, i) => {
        try {
          change(data, view);
        } catch (err) {
          failed.set(i, err);
        }
      });
      view.settle();
      await this.archiveFinished(data);
      data.runs = data.runs.filter((r) => !r.endedAt || view.runHasEntries(r.id)).slice(-200);
      // Indented while small (people read it); compact when a wide run makes it big.
      const text = data.jobs.length > 1000 ? JSON.stringify(data) : JSON.stringify(data, null, 2);
      await writeFileAtomic(this.file, text + '\n');
      this.memory = data;
      this.stamp = await this.fileStamp();
      return { data, failed };
    } finally {
      await release();
    }
  }

  /**
   * Final jobs that no run will look at again (judged, or their run has ended) move to their run's
   * archive: appended and fsynced first, then left out of the file. The first write of a ledger of an
   * older version moves its whole finished history this way, once, with a notice.
   */
  private async archiveFinished(data: LedgerData): Promise<void> {
    const openRuns = new Set(data.runs.filter((r) => !r.endedAt).map((r) => r.id));
    const finished = (j: LedgerJob) =>
      (j.endedAt !== undefined || TERMINAL_STATES.has(j.state)) && (j.consumed || !openRuns.has(j.runId));
    const moving = data.jobs.filter(finished);
    const migrating = data.archive !== 'per-run';
    data.archive = 'per-run';
    if (!moving.length) return;
    const files = await appendToArchive(this.outputPath, moving);
    const gone = new Set(moving);
    data.jobs = data.jobs.filter((j) => !gone.has(j));
    if (migrating)
      this.onNotice(
        `${this.file}: moved ${moving.length} finished job entr${moving.length === 1 ? 'y' : 'ies'} of ` +
          `${files.length} earlier run(s) to ${path.join('slurm_logs', 'runs', '<runId>', RUN_JOBS_ARCHIVE)} ` +
          `(once: ${path.basename(this.file)} now keeps only live jobs; \`disagg report\`, \`disagg cancel\` ` +
          `and resume read both)`,
      );
  }

  /**
   * Every job of this output dir, archived and live, each once, in submission order (of the archives,
   * only these runs' when `runIds` is given).
   */
  async readAll(
    runIds?: Iterable<string>,
  ): Promise<{ live: LedgerData; jobs: LedgerJob[]; skipped: number }> {
    const live = await this.read();
    const archived = await readArchive(this.outputPath, runIds);
    return { live, jobs: mergeJobs(archived.jobs, live.jobs), skipped: archived.skipped };
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
