import fs from 'node:fs/promises';
import path from 'node:path';
import { LEDGER_JOURNAL, RUN_JOBS_ARCHIVE } from '../jobdir/files.js';
import { TERMINAL_STATES } from '../types.js';
import { openForAppend } from '../util/append-no-follow.js';
import { fsyncDir, writeFileAtomic } from '../util/atomic-write.js';
import { lockFile } from '../util/file-lock.js';
import { FileReadError, MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';
import type { LedgerData, LedgerIntent, LedgerJob, LedgerRun } from './ledger-types.js';
import { appendToArchive, mergeJobs, readArchive } from './ledger-archive.js';
import { checkLedger, LedgerError } from './ledger-check.js';
import { JournalTracker, parseJournal, replayJournal } from './ledger-journal.js';
import { skippedNotice, type SkippedLine } from '../util/json-lines.js';

export { LedgerError } from './ledger-check.js';

export type { LedgerData, LedgerIntent, LedgerJob, LedgerRun } from './ledger-types.js';

const EMPTY: LedgerData = { version: 1, runs: [], jobs: [] };

/** Inode, size and mtime of `jobs.json` and of the journal (`-`: missing). */
interface Stamp {
  snapshot: string;
  journal: string;
}

function stampText(st: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}

async function stampOf(file: string): Promise<string> {
  try {
    return stampText(await fs.stat(file, { bigint: true }));
  } catch {
    return '-';
  }
}

/** What `load` found on disk. */
interface Loaded {
  data: LedgerData;
  generation: number;
  snapshotExists: boolean;
  journalBytes: number;
  journalClean: boolean;
  skipped: SkippedLine[];
}

export type LedgerChange = (data: LedgerData, view: LedgerView) => void;
/** A change made through the view only (finding, adding jobs; intents): its write costs O(changed). */
export type LedgerPatch = (view: LedgerView) => void;

/**
 * Indexed access to the ledger during one write, so that a batch of N changes costs O(N + live), not
 * O(N × live): finding a job, adding one, dropping an intent by token.
 */
export class LedgerView {
  private dropped = new Set<string>();
  private runsWithEntries?: Set<string>;
  /**
   * The jobs changed only by `setJob`, with the fields it set: the journal takes them as they are instead
   * of comparing every field (a tick's 10,000 state changes).
   */
  readonly fieldsSet = new Map<LedgerJob, Partial<LedgerJob>>();
  /** Found or added: the caller may have changed any field (never in `fieldsSet` too). */
  private readonly handedOut = new Set<LedgerJob>();

  constructor(
    private readonly data: LedgerData,
    /** The ledger's index of its jobs, kept from write to write while the jobs array stays the same. */
    private readonly held: JobIndex = {},
  ) {}

  private index(): Map<string, LedgerJob> {
    const h = this.held;
    if (!h.byKey || h.length !== this.data.jobs.length || this.data.jobs !== h.jobs) {
      h.byKey = new Map(this.data.jobs.map((j) => [`${j.jobId}\u0000${j.testId}`, j]));
      h.length = this.data.jobs.length;
      h.jobs = this.data.jobs;
    }
    return h.byKey;
  }

  findJob(jobId: string, testId: string): LedgerJob | undefined {
    const j = this.index().get(`${jobId}\u0000${testId}`);
    // A change that edited a job's id in place: the index is rebuilt rather than trusted.
    if (j && (j.jobId !== jobId || j.testId !== testId)) {
      this.held.byKey = undefined;
      const again = this.index().get(`${jobId}\u0000${testId}`);
      if (again) this.handOut(again);
      return again;
    }
    if (j) this.handOut(j);
    return j;
  }

  /** The jobs this write found, added or set: for a narrow write (`Ledger.patch`), the only ones that may differ. */
  *touched(): Generator<LedgerJob> {
    yield* this.handedOut;
    yield* this.fieldsSet.keys();
  }

  private handOut(j: LedgerJob): void {
    this.handedOut.add(j);
    this.fieldsSet.delete(j);
  }

  /** Sets these fields of a job (`undefined` removes one); false when the ledger has no such job. */
  setJob(jobId: string, testId: string, fields: Partial<LedgerJob>): boolean {
    const j = this.index().get(`${jobId}\u0000${testId}`);
    if (!j || j.jobId !== jobId || j.testId !== testId) {
      // Not indexed as it is (an id edited in place): the slow path finds it and compares it whole.
      const found = this.findJob(jobId, testId);
      if (found) Object.assign(found, fields);
      return !!found;
    }
    Object.assign(j, fields);
    if (this.handedOut.has(j)) return true;
    const before = this.fieldsSet.get(j);
    this.fieldsSet.set(j, before ? Object.assign(before, fields) : fields);
    return true;
  }

  /** Adds the job unless one with its job id and test is there already; true when added. */
  addJob(job: LedgerJob): boolean {
    const index = this.index();
    const key = `${job.jobId}\u0000${job.testId}`;
    if (index.has(key)) return false;
    this.data.jobs.push(job);
    this.handOut(job);
    index.set(key, job);
    this.held.length = this.data.jobs.length;
    return true;
  }

  /** These jobs left the array (removed in place by the ledger): the index forgets them. */
  forget(jobs: readonly LedgerJob[]): void {
    const h = this.held;
    if (!h.byKey) return;
    for (const j of jobs) {
      const key = `${j.jobId}\u0000${j.testId}`;
      if (h.byKey.get(key) === j) h.byKey.delete(key);
    }
    h.length = this.data.jobs.length;
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

/** A ledger's job index by job id and test, valid while `jobs` is its jobs array at this length. */
export interface JobIndex {
  byKey?: Map<string, LedgerJob>;
  jobs?: LedgerJob[];
  length?: number;
}

/**
 * The journal is folded into `jobs.json` once it is larger than this and than `JOURNAL_LIVE_FACTOR` times
 * the live entries: the fold costs O(live), so it must be rare while thousands of jobs are live (a
 * 10,000-job run's whole journal is ~10 MB); a reader replays at most that much.
 */
export const JOURNAL_MIN_BYTES = 8 * 1024 * 1024;
export const JOURNAL_LIVE_FACTOR = 4;
/** A rough size of one live entry in `jobs.json`, to weigh the journal against what is live. */
const ENTRY_BYTES = 400;

export interface UpdateOptions {
  /** Fold the journal into `jobs.json` in this write (a run's end; `disagg cancel`). */
  compact?: boolean;
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
 * The job ledger: `jobs.json` (a snapshot) plus its change journal (`LEDGER_JOURNAL`, one JSON line per
 * write with only what that write changed; `ledger-journal.ts`). Every change is a locked write that
 * appends its line (fsynced) — O(changed) bytes, not a rewrite of every live job; the journal is folded
 * into `jobs.json` by an atomic rename (compaction) when it outgrows what is live, and at a run's end.
 * A crash (even kill -9) at any point leaves files that read back to the last completed write, and two
 * processes sharing an output dir do not lose entries. Every reader goes through `read`/`readAll`.
 */
export class Ledger {
  readonly file: string;
  readonly journalFile: string;

  constructor(
    /** The output dir the ledger (and the run's job dirs) belong to. */
    readonly outputPath: string,
    /** Lock attempts of one write (default 50, ~10 s while another process holds the lock). */
    private readonly lockRetries = 50,
    /** The journal's size below which it is never folded in (tests pass a small one). */
    private readonly journalMinBytes = JOURNAL_MIN_BYTES,
  ) {
    this.file = path.join(outputPath, 'jobs.json');
    this.journalFile = path.join(outputPath, LEDGER_JOURNAL);
  }

  /**
   * The ledger as this process last read or wrote it. Once set, a file deleted or corrupted mid-run is
   * rewritten from it (the run's jobs must stay findable); before, an unreadable file is an error.
   */
  private memory: LedgerData | undefined;
  /** Told once per restore of a deleted or corrupted file. */
  onNotice: (message: string) => void = (message) => process.stderr.write(`${message}\n`);

  /** The ledger (empty if there is none): `jobs.json` with its journal applied. */
  async read(): Promise<LedgerData> {
    return (await this.load()).data;
  }

  /**
   * The snapshot and its journal. The journal is read first: a compaction between the two reads then
   * shows the new snapshot, whose generation the journal's lines do not carry, so they are skipped (the
   * snapshot holds them); the other order could pair the old snapshot with an emptied journal.
   */
  private async load(): Promise<Loaded> {
    let journalText = '';
    try {
      journalText = (await readRegularFile(this.journalFile, { maxBytes: MAX_DATA_FILE_BYTES })).toString(
        'utf8',
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') {
        const why =
          err instanceof FileReadError && code !== 'EACCES' ? err.message : (code ?? (err as Error).message);
        throw new LedgerError(this.journalFile, `cannot be read (${why})`);
      }
    }
    const journal = parseJournal(journalText);
    const snapshot = await this.readSnapshot();
    const data = snapshot.data;
    const generation = data.generation ?? 0;
    const ahead = journal.records.find((r) => r.g > generation);
    if (ahead)
      throw new LedgerError(
        this.file,
        `is older than its journal ${this.journalFile} (generation ${generation}, the journal continues ` +
          `generation ${ahead.g}): it was deleted or replaced by an older copy`,
      );
    const records = journal.records.filter((r) => r.g === generation);
    if (records.length) {
      replayJournal(data, records);
      // A journal line that is valid JSON but names impossible entries is damage, as in the file.
      checkLedger(`${this.file} with its journal ${this.journalFile}`, data);
    }
    return {
      data,
      generation,
      snapshotExists: snapshot.exists,
      journalBytes: Buffer.byteLength(journalText),
      journalClean: journal.clean,
      skipped: journal.skipped,
    };
  }

  private async readSnapshot(): Promise<{ data: LedgerData; exists: boolean }> {
    let text: string;
    try {
      text = (await readRegularFile(this.file, { maxBytes: MAX_DATA_FILE_BYTES })).toString('utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { data: structuredClone(EMPTY), exists: false };
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
    const generation = (data as LedgerData).generation;
    if (generation !== undefined && !Number.isSafeInteger(generation))
      throw new LedgerError(this.file, `"generation" is ${JSON.stringify(generation)}, not an integer`);
    return { data: data as LedgerData, exists: true };
  }

  /**
   * The files, or — when this process has used the ledger before and they have since been deleted,
   * corrupted or cut short — this process's last view of it, which is then written back whole.
   */
  private async readOrRestore(): Promise<{ data: LedgerData; restored: boolean }> {
    let loaded: Loaded;
    try {
      loaded = await this.load();
    } catch (err) {
      if (!this.memory || !(err instanceof LedgerError)) throw err;
      this.onNotice(`${err.file}: ${err.problem} during the run; rewriting it from this run's memory`);
      return { data: structuredClone(this.memory), restored: true };
    }
    const notice = skippedNotice(this.journalFile, loaded.skipped);
    if (notice && loaded.skipped.length !== this.toldSkipped) this.onNotice(notice);
    this.toldSkipped = loaded.skipped.length;
    const known = this.onDisk;
    if (this.memory && known) {
      const emptied =
        loaded.data.runs.length === 0 && loaded.data.jobs.length === 0 && this.memory.runs.length > 0;
      const deleted =
        (known.snapshotExists && !loaded.snapshotExists) || loaded.generation < known.generation;
      const cut = loaded.generation === known.generation && loaded.journalBytes < known.journalBytes;
      if (emptied || deleted || cut) {
        this.onNotice(
          `${this.file} (with its journal ${path.basename(this.journalFile)}) was deleted or cut short ` +
            `during the run; rewriting it from this run's memory`,
        );
        return { data: structuredClone(this.memory), restored: true };
      }
    }
    this.onDisk = {
      generation: loaded.generation,
      snapshotExists: loaded.snapshotExists,
      journalBytes: loaded.journalBytes,
      journalClean: loaded.journalClean,
    };
    return { data: loaded.data, restored: false };
  }

  /** Changes waiting for the next write; all changes queued while a write is under way go in the next one. */
  private pending: Array<{
    change: LedgerChange;
    compact: boolean;
    narrow: boolean;
    resolve: (data: LedgerData) => void;
    reject: (err: unknown) => void;
  }> = [];
  private writing = false;
  /** Stamps of both files as this process last read or wrote them: unchanged means no re-read. */
  private stamp?: Stamp;
  /** What the files hold as far as this process knows (after its last read or write). */
  private onDisk?: {
    generation: number;
    snapshotExists: boolean;
    journalBytes: number;
    journalClean: boolean;
  };
  /** Skipped journal lines already told. */
  private toldSkipped = 0;
  /** The journal's view of the files, to find what a write changed. */
  private readonly tracker = new JournalTracker();
  /** The jobs' index, kept between writes. */
  private readonly index: JobIndex = {};

  /**
   * Apply `change` in a locked write. Changes queued while a write is under way are applied together in
   * the next write (a burst of 1,000 submissions is a few writes, not 1,000); each promise resolves once
   * the write holding its change is on disk. The file lock only arbitrates between processes.
   */
  update(change: LedgerChange, options: UpdateOptions = {}): Promise<LedgerData> {
    return this.enqueue(change, !!options.compact, false);
  }

  /**
   * `update` for a change that goes through the view only: the write then compares only the jobs the
   * change found or added with what the files hold (the hot path: submissions, states, consumed).
   */
  patch(change: LedgerPatch): Promise<LedgerData> {
    return this.enqueue((_data, view) => change(view), false, true);
  }

  private enqueue(change: LedgerChange, compact: boolean, narrow: boolean): Promise<LedgerData> {
    return new Promise((resolve, reject) => {
      this.pending.push({ change, compact, narrow, resolve, reject });
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
          const { data, failed } = await this.updateLocked(
            batch.map((b) => b.change),
            batch.some((b) => b.compact),
            batch.every((b) => b.narrow),
          );
          batch.forEach((b, i) => (failed.has(i) ? b.reject(failed.get(i)) : b.resolve(data)));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async fileStamp(): Promise<Stamp> {
    return { snapshot: await stampOf(this.file), journal: await stampOf(this.journalFile) };
  }

  private async updateLocked(
    changes: LedgerChange[],
    compact: boolean,
    narrow: boolean,
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
      // Unchanged since this process wrote them: no need to read them again (a 10,000-job run's ledger).
      const stamp = await this.fileStamp();
      const unchanged =
        this.memory && this.stamp?.snapshot === stamp.snapshot && this.stamp.journal === stamp.journal;
      let data: LedgerData;
      let snapshot = compact;
      if (unchanged) data = this.memory as LedgerData;
      else {
        // Read afresh: what another process changed may be archivable; look at every job.
        narrow = false;
        const read = await this.readOrRestore();
        data = read.data;
        // A restored ledger is written whole: the files on disk no longer match anything known.
        snapshot ||= read.restored;
        this.tracker.reset(data);
      }
      // A write that fails half-way leaves the files unknown: the next write reads them again.
      this.stamp = undefined;
      const view = new LedgerView(data, this.index);
      const failed = new Map<number, unknown>();
      changes.forEach((change, i) => {
        try {
          change(data, view);
        } catch (err) {
          failed.set(i, err);
        }
      });
      view.settle();
      const removed = await this.archiveFinished(data, view, narrow ? view.touched() : data.jobs);
      const runs = data.runs.filter((r) => !r.endedAt || view.runHasEntries(r.id)).slice(-200);
      // Unchanged, the list stays the same array (the journal compares it as text).
      if (runs.length !== data.runs.length) data.runs = runs;
      // The stamps taken before reading (a change after them is seen at the next write), updated by
      // what this write wrote, from its own handles: a file damaged meanwhile never looks like ours.
      this.stamp = await this.persist(data, snapshot, stamp, narrow ? { view, removed } : undefined);
      this.memory = data;
      return { data, failed };
    } finally {
      await release();
    }
  }

  /** One line of changes appended to the journal, or — when asked or when the journal outgrew what is live — a new snapshot. */
  private async persist(
    data: LedgerData,
    snapshot: boolean,
    stamp: Stamp,
    narrow?: { view: LedgerView; removed: ReadonlySet<LedgerJob> },
  ): Promise<Stamp> {
    const disk = (this.onDisk ??= {
      generation: 0,
      snapshotExists: false,
      journalBytes: 0,
      journalClean: true,
    });
    const generation = data.generation ?? 0;
    if (!snapshot) {
      const record = narrow
        ? this.tracker.diffSome(
            data,
            generation,
            narrow.view.touched(),
            narrow.removed,
            narrow.view.fieldsSet,
          )
        : this.tracker.diff(data, generation);
      if (record === undefined) return stamp;
      if (record !== 'snapshot') {
        const line = `${disk.journalClean ? '' : '\n'}${JSON.stringify(record)}\n`;
        const bytes = disk.journalBytes + Buffer.byteLength(line);
        const live = (data.jobs.length + (data.intents?.length ?? 0)) * ENTRY_BYTES;
        if (bytes <= Math.max(this.journalMinBytes, JOURNAL_LIVE_FACTOR * live)) {
          const journal = await this.append(line, disk.journalBytes === 0);
          disk.journalBytes = bytes;
          disk.journalClean = true;
          return { snapshot: stamp.snapshot, journal };
        }
      }
    }
    await this.compact(data, generation + 1);
    return { snapshot: await stampOf(this.file), journal: '-' };
  }

  /** Appends a journal line under the lock, never through a symlink, and fsyncs it before the write resolves. */
  private async append(line: string, created: boolean): Promise<string> {
    const h = await openForAppend(this.journalFile);
    let stamp: string;
    try {
      await h.write(line);
      await h.datasync();
      stamp = stampText(await h.stat({ bigint: true }));
    } finally {
      await h.close();
    }
    if (created) await fsyncDir(path.dirname(this.journalFile));
    return stamp;
  }

  /**
   * Fold the journal into `jobs.json`: the new snapshot (next generation) is fsynced and renamed into
   * place, then the journal is removed. A crash in between leaves journal lines of the old generation,
   * which every reader skips.
   */
  private async compact(data: LedgerData, generation: number): Promise<void> {
    data.generation = generation;
    // Indented while small (people read it); compact when a wide run makes it big.
    const text = data.jobs.length > 1000 ? JSON.stringify(data) : JSON.stringify(data, null, 2);
    await writeFileAtomic(this.file, text + '\n', { durable: true });
    await fs.rm(this.journalFile, { force: true });
    this.onDisk = { generation, snapshotExists: true, journalBytes: 0, journalClean: true };
    this.tracker.reset(data);
  }

  /**
   * Final jobs that no run will look at again (judged, or their run has ended) move to their run's
   * archive: appended and fsynced first, then left out of the live ledger. The first write of a ledger of an
   * older version moves its whole finished history this way, once, with a notice.
   */
  private async archiveFinished(
    data: LedgerData,
    view: LedgerView,
    /** The jobs that may have become final: every job, or (a narrow write) those the write touched. */
    candidates: Iterable<LedgerJob>,
  ): Promise<ReadonlySet<LedgerJob>> {
    const openRuns = new Set(data.runs.filter((r) => !r.endedAt).map((r) => r.id));
    const finished = (j: LedgerJob) =>
      (j.endedAt !== undefined || TERMINAL_STATES.has(j.state)) && (j.consumed || !openRuns.has(j.runId));
    const moving: LedgerJob[] = [];
    for (const j of candidates) if (finished(j)) moving.push(j);
    const migrating = data.archive !== 'per-run';
    data.archive = 'per-run';
    if (!moving.length) return new Set();
    const files = await appendToArchive(this.outputPath, moving);
    const gone = new Set(moving);
    // In place: the array (and the jobs' index) stays the same from write to write.
    let kept = 0;
    for (const j of data.jobs) if (!gone.has(j)) data.jobs[kept++] = j;
    data.jobs.length = kept;
    view.forget(moving);
    if (migrating)
      this.onNotice(
        `${this.file}: moved ${moving.length} finished job entr${moving.length === 1 ? 'y' : 'ies'} of ` +
          `${files.length} earlier run(s) to ${path.join('slurm_logs', 'runs', '<runId>', RUN_JOBS_ARCHIVE)} ` +
          `(once: ${path.basename(this.file)} now keeps only live jobs; \`disagg report\`, \`disagg cancel\` ` +
          `and resume read both)`,
      );
    return gone;
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
