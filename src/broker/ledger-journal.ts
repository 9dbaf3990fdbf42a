// The live ledger's change journal (`LEDGER_JOURNAL` beside `jobs.json`). `jobs.json` is a snapshot; each
// ledger write after it appends ONE JSON line holding only what that write changed (jobs added, the fields
// that changed, jobs that left for the archive, intents, the runs list when it changed). A write therefore
// costs O(changed) bytes, not a rewrite of every live job. One line per write keeps a write atomic: a line
// torn by a crash is skipped whole (its callers never heard it was written), never half-applied.
//
// Each line names the snapshot generation it follows (`g`). Folding the journal into a new snapshot
// (`Ledger`'s compaction) writes `jobs.json` with the next generation by rename, then removes the
// journal: a crash in between leaves lines of the old generation, which readers skip (the new snapshot
// holds them), so nothing is lost and nothing applied twice.

import { parseJsonLines, type SkippedLine } from '../util/json-lines.js';
import { jobIdentity } from './ledger-archive.js';
import type { LedgerData, LedgerIntent, LedgerJob, LedgerRun } from './ledger-types.js';

/** A job's identity in a record: executor, job id, test id, submission time (as `jobIdentity`). */
export type JobKey = [string, string, string, string];

/** The changes of one ledger write. */
export interface JournalRecord {
  /** The `jobs.json` generation this write follows. */
  g: number;
  /** Jobs added (whole entries). */
  put?: LedgerJob[];
  /** Fields of existing jobs that changed (`f`) or were removed (`u`). */
  set?: Array<{ k: JobKey; f?: Record<string, unknown>; u?: string[] }>;
  /** Jobs that left the live ledger (moved to their run's archive). */
  del?: JobKey[];
  addIntents?: LedgerIntent[];
  /** Tokens of intents removed. */
  dropIntents?: string[];
  /** The whole runs list, when it changed (it is short: at most 200 runs). */
  runs?: LedgerRun[];
  archive?: LedgerData['archive'];
}

function keyOf(j: LedgerJob): JobKey {
  return [j.executor, j.jobId, j.testId, j.submittedAt];
}

function keyString(k: JobKey): string {
  return jobIdentity({
    executor: k[0] as LedgerJob['executor'],
    jobId: k[1],
    testId: k[2],
    submittedAt: k[3],
  });
}

interface Written {
  key: string;
  /** Its identity, to notice an edit of it in place without building the key. */
  jobId: string;
  testId: string;
  executor: string;
  submittedAt: string;
  /**
   * The job's fields as last written and how many are set; objects (a job's `procId`) as their JSON, so
   * an edit in place is seen too.
   */
  fields: Record<string, unknown>;
  count: number;
  /** The diff pass that last saw it. */
  seen: number;
}

function writtenOf(j: LedgerJob, seen: number): Written {
  // A clone keeps the job's shape (fast properties, light on the GC with 10,000 of them); an absent
  // field is `undefined`, never deleted.
  const fields = { ...j } as unknown as Record<string, unknown>;
  let count = 0;
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    if (typeof v === 'object' && v !== null) fields[k] = JSON.stringify(v);
    count++;
  }
  const { jobId, testId, executor, submittedAt } = j;
  return { key: jobIdentity(j), jobId, testId, executor, submittedAt, fields, count, seen };
}

function sameIdentity(w: Written, j: LedgerJob): boolean {
  return (
    w.jobId === j.jobId &&
    w.testId === j.testId &&
    w.executor === j.executor &&
    w.submittedAt === j.submittedAt
  );
}

/**
 * What the ledger's files hold, kept in step with every write, so that a write's record is found by one
 * pass of cheap comparisons over the live jobs instead of serialising them all. Every way a change may
 * edit the ledger (the view, or `data` directly) is seen.
 */
export class JournalTracker {
  private byObject = new Map<LedgerJob, Written>();
  private byKey = new Map<string, Written>();
  private intents = new Set<string>();
  private runs = '[]';
  private archive: LedgerData['archive'];
  private pass = 0;

  /** The files now hold `data` (after a read or a snapshot write): O(live), only then. */
  reset(data: LedgerData): void {
    this.byObject = new Map();
    this.byKey = new Map();
    for (const j of data.jobs) {
      const w = writtenOf(j, 0);
      this.byObject.set(j, w);
      this.byKey.set(w.key, w);
    }
    this.intents = new Set((data.intents ?? []).map((i) => i.token));
    this.runs = JSON.stringify(data.runs);
    this.archive = data.archive;
  }

  /**
   * The record of what changed since the files last matched (undefined: nothing changed), and the
   * tracker now matches `data`; `snapshot` when the change cannot be told as a record (two live entries
   * of the same job, two intents with one token): then the caller writes a whole snapshot.
   */
  diff(data: LedgerData, g: number): JournalRecord | 'snapshot' | undefined {
    const pass = ++this.pass;
    const put: LedgerJob[] = [];
    const set: NonNullable<JournalRecord['set']> = [];
    let seen = 0;
    for (const j of data.jobs) {
      const r = this.compare(j, pass, put, set);
      if (r === 'duplicate') return this.fail();
      seen++;
    }
    const del: JobKey[] = [];
    if (seen !== this.byKey.size) {
      for (const [key, w] of this.byKey)
        if (w.seen !== pass) {
          const parts = key.split('\u0000') as JobKey;
          del.push(parts);
          this.byKey.delete(key);
        }
      for (const [j, w] of this.byObject) if (this.byKey.get(w.key) !== w) this.byObject.delete(j);
    }
    return this.rest(data, g, put, set, del);
  }

  /** The intents, the runs list and the archive flag (short lists), then the record. */
  private rest(
    data: LedgerData,
    g: number,
    put: LedgerJob[],
    set: NonNullable<JournalRecord['set']>,
    del: JobKey[],
  ): JournalRecord | 'snapshot' | undefined {
    const addIntents: LedgerIntent[] = [];
    const tokens = new Set<string>();
    for (const i of data.intents ?? []) {
      if (tokens.has(i.token)) return this.fail();
      tokens.add(i.token);
      if (!this.intents.has(i.token)) addIntents.push(i);
    }
    const dropIntents: string[] = [];
    if (tokens.size !== this.intents.size || addIntents.length)
      for (const t of this.intents) if (!tokens.has(t)) dropIntents.push(t);
    this.intents = tokens;
    const runs = JSON.stringify(data.runs);
    const runsChanged = runs !== this.runs;
    this.runs = runs;
    const archiveChanged = data.archive !== this.archive;
    this.archive = data.archive;
    if (
      !put.length &&
      !set.length &&
      !del.length &&
      !addIntents.length &&
      !dropIntents.length &&
      !runsChanged &&
      !archiveChanged
    )
      return undefined;
    return {
      g,
      ...(put.length ? { put } : {}),
      ...(set.length ? { set } : {}),
      ...(del.length ? { del } : {}),
      ...(addIntents.length ? { addIntents } : {}),
      ...(dropIntents.length ? { dropIntents } : {}),
      ...(runsChanged ? { runs: data.runs } : {}),
      ...(archiveChanged && data.archive ? { archive: data.archive } : {}),
    };
  }

  /** One job against what the files hold: a `put` when new, a `set` of its changed fields. */
  private compare(
    j: LedgerJob,
    pass: number,
    put: LedgerJob[],
    set: NonNullable<JournalRecord['set']>,
  ): 'duplicate' | undefined {
    let w = this.byObject.get(j);
    if (w && !sameIdentity(w, j)) {
      // Its identity was edited in place: the old entry leaves, this one comes as new.
      this.byObject.delete(j);
      w = undefined;
    }
    if (!w) {
      const key = jobIdentity(j);
      w = this.byKey.get(key);
      if (w) this.byObject.set(j, w);
    }
    if (!w) {
      const added = writtenOf(j, pass);
      this.byObject.set(j, added);
      this.byKey.set(added.key, added);
      put.push(j);
      return undefined;
    }
    if (w.seen === pass) return 'duplicate';
    w.seen = pass;
    let f: Record<string, unknown> | undefined;
    let present = 0;
    const fields = w.fields;
    for (const k in j) {
      const v = (j as unknown as Record<string, unknown>)[k];
      if (v === undefined) continue;
      present++;
      const c = typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
      const before = fields[k];
      if (before !== c) {
        if (before === undefined) w.count++;
        (f ??= {})[k] = v;
        fields[k] = c;
      }
    }
    let u: string[] | undefined;
    if (present !== w.count)
      for (const k of Object.keys(fields))
        if (fields[k] !== undefined && (j as unknown as Record<string, unknown>)[k] === undefined) {
          (u ??= []).push(k);
          fields[k] = undefined;
          w.count--;
        }
    if (f || u) set.push({ k: keyOf(j), ...(f ? { f } : {}), ...(u ? { u } : {}) });
    return undefined;
  }

  /** `compare` for a job whose changed fields are known (`LedgerView.setJob`): only those are looked at. */
  private compareFields(
    j: LedgerJob,
    fields: Partial<LedgerJob>,
    pass: number,
    put: LedgerJob[],
    set: NonNullable<JournalRecord['set']>,
  ): 'duplicate' | undefined {
    const w = this.byObject.get(j);
    if (!w || !sameIdentity(w, j)) return this.compare(j, pass, put, set);
    if (w.seen === pass) return 'duplicate';
    w.seen = pass;
    let f: Record<string, unknown> | undefined;
    let u: string[] | undefined;
    const written = w.fields;
    for (const k in fields) {
      const v = (fields as Record<string, unknown>)[k];
      const before = written[k];
      if (v === undefined) {
        if (before === undefined) continue;
        (u ??= []).push(k);
        written[k] = undefined;
        w.count--;
        continue;
      }
      const c = typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
      if (before === c) continue;
      if (before === undefined) w.count++;
      (f ??= {})[k] = v;
      written[k] = c;
    }
    if (f || u) set.push({ k: keyOf(j), ...(f ? { f } : {}), ...(u ? { u } : {}) });
    return undefined;
  }

  /**
   * `diff` for a write whose changes all went through the view: only the jobs it touched can differ
   * (O(changed), not O(live)); `removed` are the jobs that left the live ledger in it.
   */
  diffSome(
    data: LedgerData,
    g: number,
    touched: Iterable<LedgerJob>,
    removed: ReadonlySet<LedgerJob>,
    /** Of `touched`, the jobs whose changed fields are known. */
    fieldsSet: ReadonlyMap<LedgerJob, Partial<LedgerJob>> = new Map(),
  ): JournalRecord | 'snapshot' | undefined {
    const pass = ++this.pass;
    const put: LedgerJob[] = [];
    const set: NonNullable<JournalRecord['set']> = [];
    const del: JobKey[] = [];
    for (const j of touched) {
      if (removed.has(j)) continue;
      const fields = fieldsSet.get(j);
      const r = fields ? this.compareFields(j, fields, pass, put, set) : this.compare(j, pass, put, set);
      if (r === 'duplicate') return this.fail();
    }
    for (const j of removed) {
      const w = this.byObject.get(j) ?? this.byKey.get(jobIdentity(j));
      if (!w) continue;
      del.push(w.key.split('\u0000') as JobKey);
      this.byKey.delete(w.key);
      this.byObject.delete(j);
    }
    return this.rest(data, g, put, set, del);
  }

  private fail(): 'snapshot' {
    this.pass++;
    return 'snapshot';
  }
}

function isKey(v: unknown): v is JobKey {
  return Array.isArray(v) && v.length === 4 && v.every((s) => typeof s === 'string');
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws (the reason a line is skipped) unless `v` has a record's shape; the entries are checked after replay. */
function asRecord(v: unknown): JournalRecord {
  if (!isObject(v) || !Number.isSafeInteger(v.g)) throw new Error('not a ledger journal record');
  const arrays = ['put', 'set', 'del', 'addIntents', 'dropIntents', 'runs'] as const;
  for (const a of arrays)
    if (v[a] !== undefined && !Array.isArray(v[a])) throw new Error(`"${a}" is not an array`);
  if (!((v.put as unknown[] | undefined) ?? []).every(isObject)) throw new Error('"put" holds a non-object');
  if (!((v.del as unknown[] | undefined) ?? []).every(isKey)) throw new Error('"del" holds a malformed key');
  if (!((v.set as unknown[] | undefined) ?? []).every((s) => isObject(s) && isKey(s.k)))
    throw new Error('"set" holds a malformed entry');
  if (!((v.addIntents as unknown[] | undefined) ?? []).every(isObject))
    throw new Error('"addIntents" holds a non-object');
  return v as unknown as JournalRecord;
}

export interface JournalRead {
  records: JournalRecord[];
  /** Lines left out: torn by a crash mid-append, or not a record. */
  skipped: SkippedLine[];
  /** The text ends with a newline (or is empty): the next append needs no separator. */
  clean: boolean;
}

export function parseJournal(text: string): JournalRead {
  const { lines, skipped } = parseJsonLines(text, asRecord);
  return { records: lines.map((l) => l.value), skipped, clean: text === '' || text.endsWith('\n') };
}

/** `base` (a snapshot, changed in place) with these records applied in order. */
export function replayJournal(base: LedgerData, records: readonly JournalRecord[]): LedgerData {
  const slots: Array<LedgerJob | undefined> = base.jobs;
  const at = new Map<string, number>();
  slots.forEach((j, i) => j && at.set(jobIdentity(j), i));
  let intents = new Map((base.intents ?? []).map((i) => [i.token, i]));
  let intentsTouched = false;
  for (const r of records) {
    for (const j of r.put ?? []) {
      const key = jobIdentity(j);
      const i = at.get(key);
      if (i !== undefined) slots[i] = j;
      else at.set(key, slots.push(j) - 1);
    }
    for (const s of r.set ?? []) {
      const i = at.get(keyString(s.k));
      const j = i === undefined ? undefined : slots[i];
      if (!j) continue;
      const fields = j as unknown as Record<string, unknown>;
      Object.assign(fields, s.f ?? {});
      for (const k of s.u ?? []) delete fields[k];
    }
    for (const k of r.del ?? []) {
      const key = keyString(k);
      const i = at.get(key);
      if (i === undefined) continue;
      slots[i] = undefined;
      at.delete(key);
    }
    if (r.addIntents?.length || r.dropIntents?.length) intentsTouched = true;
    for (const i of r.addIntents ?? []) if (!intents.has(i.token)) intents.set(i.token, i);
    for (const t of r.dropIntents ?? []) intents.delete(t);
    if (r.runs) base.runs = r.runs;
    if (r.archive) base.archive = r.archive;
  }
  base.jobs = slots.filter((j): j is LedgerJob => j !== undefined);
  if (intentsTouched) {
    base.intents = [...intents.values()];
    intents = new Map();
  }
  return base;
}
