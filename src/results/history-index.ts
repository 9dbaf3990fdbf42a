// An index beside `history.jsonl`: the byte offset and length of every line with the fields the readers
// select by (test, config hash, GPU type, job key hash), so the history gate, `disagg accept` and the
// writer read the few lines they judge instead of a year of them. Its lines are binary (float64): each
// process of a run reads a year's index as bytes, not as 9 MB of JSON to parse. The JSONL stays the one source of truth: the
// index records the size it covers and a hash of the bytes just before that size; a history that grew
// (another tool appended) is caught up from there, one that changed otherwise is indexed again.

import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import { writeFileAtomic } from '../util/atomic-write.js';
import { fnv1a } from '../util/fnv1a.js';
import { lockFile } from '../util/file-lock.js';
import type { SkippedLine } from '../util/json-lines.js';

/** What a line is selected by; undefined for a line that is not a record (left out of the index). */
export interface LineFields {
  test: string;
  configHash?: string;
  gpuType?: string;
  /** The job's identity (`jobKey`). */
  key?: string;
}
export type FieldsOf = (raw: string) => LineFields | undefined;

export interface IndexedLine {
  offset: number;
  length: number;
  test: string;
  configHash?: string;
  gpuType?: string;
}

interface IndexFile {
  /** Bytes of the history covered (always the end of a line). */
  size: number;
  /** sha256 of the (up to) TAIL bytes before `size`, and of the first (up to) TAIL bytes. */
  tail: string;
  head?: string;
  /** The history's mtime when the index was saved: same size, other mtime = rewritten in place. */
  mtimeMs?: number;
  /** Tests, config hashes and GPU types (a few hundred): the lines refer to them by their place here. */
  strings: string[];
  /**
   * Per line, STRIDE numbers: offset, length, the string-table indexes of test, config hash and GPU type
   * (-1: none), and a 32-bit hash of the job key (-1: none). Typed, so a year of lines (110k) is read and
   * written as 5 MB of bytes, with nothing to parse and nothing for the GC to walk. Capacity may exceed
   * `n` lines.
   */
  lines: Float64Array;
  n: number;
  /** Complete lines covered, and the 1-based numbers of those that are not records (kept out). */
  count: number;
  bad: number[];
}

/** The small part of the index file, as JSON before its lines. */
interface IndexHeader {
  size: number;
  tail: string;
  head?: string;
  mtimeMs?: number;
  strings: string[];
  n: number;
  count: number;
  bad: number[];
}

const STRIDE = 6;
const TAIL = 4096;
/** Lines caught up since the saved index before it is saved again (an open then starts from there). */
const SAVE_AFTER = 64;
const CHUNK = 1 << 20;
/** Line numbers of damaged lines kept (the notice names the first few and counts the rest). */
const MAX_BAD = 1000;

/** Lines at most this many bytes apart are read in one span, spans of at most READ_SPAN bytes. */
const READ_GAP = 64 * 1024;
const READ_SPAN = 8 * 1024 * 1024;

/**
 * The index file: MAGIC, the header's length (uint32 LE), the header (JSON), zero padding to a multiple
 * of 8 bytes, then the lines as float64 (little-endian). A file of another layout is rebuilt.
 */
const MAGIC = Buffer.from('DHIDX\u0000\u0000\u0002', 'latin1');

export function indexPathOf(historyFile: string): string {
  return `${historyFile}.index`;
}

/** Where versions before the binary index kept theirs (JSON): removed once a new one is saved. */
const legacyIndexPathOf = (historyFile: string) => `${historyFile}.index.json`;
/** Histories whose older index this process removed already (one try per process, not per save). */
const legacyGone = new Set<string>();

/** A job key's 32-bit hash (FNV-1a): a line found by it is checked against the line itself. */
export const keyHash = fnv1a;

// The lines are float64 in the machine's order; a big-endian machine rebuilds (and never saves) them.
const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The index's bytes as saved. */
export function encodeIndex(d: IndexFile): Buffer {
  const header: IndexHeader = {
    size: d.size,
    tail: d.tail,
    head: d.head,
    mtimeMs: d.mtimeMs,
    strings: d.strings,
    n: d.n,
    count: d.count,
    bad: d.bad,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = align8(MAGIC.length + 4 + json.length);
  const out = Buffer.alloc(start + d.n * STRIDE * 8);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  const lines = d.lines.subarray(0, d.n * STRIDE);
  Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength).copy(out, start);
  return out;
}

/** The index these bytes hold, or undefined when they are not an index of this layout (it is rebuilt). */
export function decodeIndex(buf: Buffer): IndexFile | undefined {
  if (!LITTLE_ENDIAN || buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    return undefined;
  const jsonLength = buf.readUInt32LE(MAGIC.length);
  const start = align8(MAGIC.length + 4 + jsonLength);
  if (start > buf.length) return undefined;
  let h: IndexHeader;
  try {
    h = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength)) as IndexHeader;
  } catch {
    return undefined;
  }
  const ok =
    Number.isSafeInteger(h.size) &&
    typeof h.tail === 'string' &&
    Array.isArray(h.strings) &&
    h.strings.every((x) => typeof x === 'string') &&
    Number.isSafeInteger(h.n) &&
    h.n >= 0 &&
    Number.isSafeInteger(h.count) &&
    Array.isArray(h.bad) &&
    buf.length === start + h.n * STRIDE * 8;
  if (!ok) return undefined;
  // A view on the bytes read when they sit 8-byte aligned (a file's own buffer does), else a copy. Never
  // written through: an index copies its lines before its first change (`mutable`).
  let lines: Float64Array;
  if ((buf.byteOffset + start) % 8 === 0)
    lines = new Float64Array(buf.buffer, buf.byteOffset + start, h.n * STRIDE);
  else {
    lines = new Float64Array(h.n * STRIDE);
    Buffer.from(lines.buffer).set(buf.subarray(start));
  }
  // Lines in file order within the size covered, pointing at strings the table has: a damaged file is
  // rebuilt, never half-trusted.
  let end = 0;
  for (let i = 0; i < lines.length; i += STRIDE) {
    const offset = lines[i] as number;
    const length = lines[i + 1] as number;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < end || length < 0)
      return undefined;
    end = offset + length;
    if (end > h.size) return undefined;
    for (let k = 2; k < 5; k++) {
      const id = lines[i + k] as number;
      if (id !== -1 && !(Number.isInteger(id) && id >= 0 && id < h.strings.length)) return undefined;
    }
  }
  return {
    size: h.size,
    tail: h.tail,
    head: h.head,
    mtimeMs: h.mtimeMs,
    strings: h.strings,
    lines,
    n: h.n,
    count: h.count,
    bad: h.bad,
  };
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

async function hashOf(fh: fs.FileHandle, start: number, end: number): Promise<string> {
  const buf = Buffer.alloc(Math.max(0, end - start));
  if (buf.length) await fh.read(buf, 0, buf.length, start);
  return createHash('sha256').update(buf).digest('hex');
}
const tailHashOf = (fh: fs.FileHandle, size: number) => hashOf(fh, Math.max(0, size - TAIL), size);
const headHashOf = (fh: fs.FileHandle, size: number) => hashOf(fh, 0, Math.min(TAIL, size));

/**
 * The index this process last read or saved, by the stamp of the index file it came from (or was
 * caught up from): a run's steps open the index several times (gate, writer, each part). Opens share it
 * until one changes it (copy on write); whatever it holds is checked against the history at each open, as
 * a file read afresh is.
 */
const parsed = new Map<string, { stamp: string; data: IndexFile }>();

async function stampOf(file: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(file, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return undefined;
  }
}

const copyOf = (d: IndexFile): IndexFile => ({
  ...d,
  strings: d.strings.slice(),
  lines: d.lines.slice(),
  bad: d.bad.slice(),
});

/** The saved index, and the stamp of the file it is (undefined: not to be shared, it changed meanwhile). */
async function loadIndex(file: string): Promise<{ data: IndexFile; stamp?: string } | undefined> {
  const at = indexPathOf(file);
  try {
    const stamp = await stampOf(at);
    const known = parsed.get(at);
    if (stamp !== undefined && known?.stamp === stamp) return { data: known.data, stamp };
    const data = decodeIndex(await fs.readFile(at));
    if (!data) return undefined;
    // Checked against the file it was read from: a write between the stat and the read is not kept.
    return { data, stamp: (await stampOf(at)) === stamp ? stamp : undefined };
  } catch {
    return undefined;
  }
}

/** An index covering nothing yet. */
const emptyIndex = (): IndexFile => ({
  size: 0,
  tail: '',
  strings: [],
  lines: new Float64Array(0),
  n: 0,
  count: 0,
  bad: [],
});

export class HistoryIndex {
  /** String → its table index, built on first use (tests, config hashes, GPU types: a few hundred). */
  private stringIdsMap?: Map<string, number>;
  private get stringIds(): Map<string, number> {
    if (!this.stringIdsMap) {
      this.stringIdsMap = new Map();
      this.data.strings.forEach((s, i) => this.stringIdsMap?.set(s, i));
    }
    return this.stringIdsMap;
  }
  /** How the index was brought up to date by `open` (for tests and the bench). */
  how: 'fresh' | 'caught-up' | 'rebuilt' | 'empty' = 'fresh';

  /** `data` is shared with other opens of this process: it is copied before its first change. */
  private shared = false;

  private constructor(
    readonly file: string,
    private data: IndexFile,
  ) {}

  /** The index's data, its own to change. */
  private mutable(): IndexFile {
    if (this.shared) {
      this.data = copyOf(this.data);
      this.shared = false;
      // Its own table from now on: a map of the shared one would miss the strings added to this copy.
      this.stringIdsMap = undefined;
    }
    return this.data;
  }

  /** The next opens of this process start from this data, as the index file of `stamp` holds it. */
  private share(stamp: string | undefined): void {
    if (stamp === undefined) return;
    parsed.set(indexPathOf(this.file), { stamp, data: this.data });
    this.shared = true;
  }

  /**
   * The index of `file`, brought up to date with it (and saved when that took real work). A rebuild is
   * done by one process at a time (the tests of a run start together): the others wait for its index.
   */
  static async open(file: string, fieldsOf: FieldsOf): Promise<HistoryIndex> {
    const quick = await HistoryIndex.openOnce(file, fieldsOf, false);
    if (quick) return quick;
    let release: (() => Promise<void>) | undefined;
    try {
      // Waits only while another process rebuilds; a read-only dir or a full disk fails at once.
      release = await lockFile(indexPathOf(file), {
        stale: 60_000,
        retries: 600,
        factor: 1,
        minTimeout: 100,
        maxTimeout: 100,
      });
    } catch {
      // No lock (read-only dir, a stuck holder): rebuild here, unsaved if need be.
    }
    try {
      return (await HistoryIndex.openOnce(file, fieldsOf, true)) as HistoryIndex;
    } finally {
      await release?.().catch(() => undefined);
    }
  }

  /** Undefined when the index must be rebuilt and `rebuild` is false. */
  private static async openOnce(
    file: string,
    fieldsOf: FieldsOf,
    rebuild: boolean,
  ): Promise<HistoryIndex | undefined> {
    let fh: fs.FileHandle;
    try {
      // Never blocks on a FIFO; anything but a regular file is refused below.
      fh = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const empty = new HistoryIndex(file, emptyIndex());
      empty.how = 'empty';
      return empty;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile())
        throw new Error(
          `${file}: not a regular file (a FIFO, device or directory): the history must be a regular file; move it aside`,
        );
      const size = st.size;
      const loaded = await loadIndex(file);
      const saved = loaded?.data;
      let index: HistoryIndex;
      let from = 0;
      // Same bytes at both ends of the indexed part, and (when nothing was appended) the same mtime.
      const same =
        saved &&
        saved.size <= size &&
        (saved.size < size || saved.mtimeMs === undefined || saved.mtimeMs === st.mtimeMs) &&
        (await tailHashOf(fh, saved.size)) === saved.tail &&
        (saved.head === undefined || (await headHashOf(fh, saved.size)) === saved.head);
      if (saved && same) {
        index = new HistoryIndex(file, saved);
        index.shared = true;
        from = saved.size;
        index.how = from === size ? 'fresh' : 'caught-up';
      } else {
        if (!rebuild) return undefined;
        index = new HistoryIndex(file, emptyIndex());
        index.how = 'rebuilt';
      }
      const added = from < size ? await index.scan(fh, from, size, fieldsOf) : 0;
      index.fileSize = size;
      if (index.how === 'rebuilt' || added >= SAVE_AFTER || (!saved && index.data.size > 0))
        await index.save(fh);
      else if (added) {
        const data = index.mutable();
        data.tail = await tailHashOf(fh, data.size);
        data.head = await headHashOf(fh, data.size);
        data.mtimeMs = st.mtimeMs;
        // Caught up in memory only (too few lines to save): the next open here starts from this.
        index.share(loaded?.stamp);
      } else if (index.how === 'fresh') index.share(loaded?.stamp);
      return index;
    } finally {
      await fh.close();
    }
  }

  /** Index the complete lines in [from, to); returns how many lines were read. */
  private async scan(fh: fs.FileHandle, from: number, to: number, fieldsOf: FieldsOf): Promise<number> {
    this.mutable();
    let pos = from;
    let lineStart = from;
    let carry: Buffer = Buffer.alloc(0);
    let count = 0;
    const buf = Buffer.alloc(CHUNK);
    while (pos < to) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, to - pos), pos);
      if (!bytesRead) break;
      const chunk = carry.length
        ? Buffer.concat([carry, buf.subarray(0, bytesRead)])
        : buf.subarray(0, bytesRead);
      const base = pos - carry.length;
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        const raw = chunk.toString('utf8', start, nl);
        this.data.count++;
        this.add(base + start, nl - start, raw, fieldsOf);
        count++;
        start = nl + 1;
        lineStart = base + start;
      }
      carry = Buffer.from(chunk.subarray(start));
      pos += bytesRead;
    }
    // A last line without its newline may still be being written: it is indexed once complete.
    this.data.size = lineStart;
    return count;
  }

  private str(s: string | undefined): number {
    if (s === undefined) return -1;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.data.strings.length;
      this.data.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  private add(offset: number, length: number, raw: string, fieldsOf: FieldsOf): void {
    if (!raw.trim()) return;
    const f = fieldsOf(raw);
    if (!f) {
      if (this.data.bad.length < MAX_BAD) this.data.bad.push(this.data.count);
      return;
    }
    const d = this.data;
    if ((d.n + 1) * STRIDE > d.lines.length) {
      const grown = new Float64Array(Math.max(1024 * STRIDE, d.lines.length * 2));
      grown.set(d.lines.subarray(0, d.n * STRIDE));
      d.lines = grown;
    }
    const at = d.n * STRIDE;
    d.lines[at] = offset;
    d.lines[at + 1] = length;
    d.lines[at + 2] = this.str(f.test);
    d.lines[at + 3] = this.str(f.configHash);
    d.lines[at + 4] = this.str(f.gpuType);
    d.lines[at + 5] = f.key === undefined ? -1 : keyHash(f.key);
    d.n++;
  }

  private async save(fh: fs.FileHandle): Promise<void> {
    this.mutable();
    this.data.tail = await tailHashOf(fh, this.data.size);
    this.data.head = await headHashOf(fh, this.data.size);
    this.data.mtimeMs = (await fh.stat()).mtimeMs;
    // A big-endian machine's lines would read wrong elsewhere: its index stays in memory.
    if (!LITTLE_ENDIAN) return;
    try {
      await writeFileAtomic(indexPathOf(this.file), encodeIndex(this.data));
      this.share(await stampOf(indexPathOf(this.file)));
      if (!legacyGone.has(this.file)) {
        await fs.rm(legacyIndexPathOf(this.file), { force: true });
        legacyGone.add(this.file);
      }
    } catch {
      // An index that cannot be written (read-only dir) is rebuilt in memory next time: never an error.
    }
  }

  private at(i: number): IndexedLine {
    const l = this.data.lines;
    const s = (id: number) => (id < 0 ? undefined : this.data.strings[id]);
    return {
      offset: l[i] as number,
      length: l[i + 1] as number,
      test: s(l[i + 2] as number) as string,
      configHash: s(l[i + 3] as number),
      gpuType: s(l[i + 4] as number),
    };
  }

  /**
   * Lines whose fields equal every field given (in file order). A job key is matched by its hash: the
   * caller checks the line's own key (two keys may share a hash).
   */
  find(where: Partial<LineFields>): IndexedLine[] {
    const want: Array<[number, number]> = [];
    for (const [slot, value] of [
      [2, where.test],
      [3, where.configHash],
      [4, where.gpuType],
    ] as const) {
      if (value === undefined) continue;
      const id = this.stringIds.get(value);
      if (id === undefined) return [];
      want.push([slot, id]);
    }
    if (where.key !== undefined) want.push([5, keyHash(where.key)]);
    const out: IndexedLine[] = [];
    const l = this.data.lines;
    // A plain loop: a year of history is 100k+ lines per gate.
    lines: for (let i = 0; i < this.data.n * STRIDE; i += STRIDE) {
      for (let k = 0; k < want.length; k++) {
        const [slot, id] = want[k] as [number, number];
        if (l[i + slot] !== id) continue lines;
      }
      out.push(this.at(i));
    }
    return out;
  }

  /**
   * Each test's last `n` lines (of `tests` only, when given), in file order: one backward pass over the
   * index, building only the lines returned (a report's trends of a year of history).
   */
  lastPerTest(n: number, tests?: ReadonlySet<string>): IndexedLine[] {
    const l = this.data.lines;
    const taken = new Map<number, number>();
    const picked: number[] = [];
    for (let i = (this.data.n - 1) * STRIDE; i >= 0; i -= STRIDE) {
      const test = l[i + 2] as number;
      if (test < 0) continue;
      const k = taken.get(test) ?? 0;
      if (k >= n) continue;
      if (tests && !tests.has(this.data.strings[test] as string)) continue;
      taken.set(test, k + 1);
      picked.push(i);
    }
    return picked.reverse().map((i) => this.at(i));
  }

  /** Bytes of the history when it was opened (beyond `size`: a last line without its newline). */
  fileSize = 0;

  /** Lines left out: not records, and a last line without its newline (torn, or still being written). */
  skipped(): SkippedLine[] {
    const out: SkippedLine[] = this.data.bad.map((line) => ({ line, reason: 'not a history record' }));
    if (this.fileSize > this.data.size)
      out.push({ line: this.data.count + 1, reason: 'not JSON (no newline at its end), a torn last line' });
    return out;
  }

  get lineCount(): number {
    return this.data.n;
  }

  /** The covered size of the history (the end of its last complete line). */
  get size(): number {
    return this.data.size;
  }

  /** The text of these lines, read by offset. */
  async read(lines: readonly IndexedLine[]): Promise<string[]> {
    if (!lines.length) return [];
    const fh = await fs.open(this.file, 'r');
    try {
      const out: string[] = [];
      // Lines close together (a report's last runs of every test: the file's tail) in one read each
      // span, not one read per line; lines given out of file order are read one by one.
      for (let i = 0; i < lines.length;) {
        const first = lines[i] as IndexedLine;
        let j = i + 1;
        let end = first.offset + first.length;
        for (; j < lines.length; j++) {
          const next = lines[j] as IndexedLine;
          if (
            next.offset < end ||
            next.offset - end > READ_GAP ||
            next.offset + next.length - first.offset > READ_SPAN
          )
            break;
          end = next.offset + next.length;
        }
        const buf = Buffer.alloc(end - first.offset);
        await fh.read(buf, 0, buf.length, first.offset);
        for (; i < j; i++) {
          const line = lines[i] as IndexedLine;
          out.push(
            buf.toString('utf8', line.offset - first.offset, line.offset - first.offset + line.length),
          );
        }
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  /**
   * The line at `offset` was replaced (same position, `newLength` bytes) by a rewrite of the whole file
   * (`disagg accept`, a step merging its part): later offsets shift, the index stays fresh and is saved.
   */
  async replaced(offset: number, newLength: number, fields: LineFields | undefined): Promise<void> {
    const d = this.mutable();
    const l = d.lines;
    let delta = 0;
    for (let i = 0; i < d.n * STRIDE; i += STRIDE) {
      if (l[i] === offset) {
        delta = newLength - (l[i + 1] as number);
        l[i + 1] = newLength;
        if (fields) {
          l[i + 2] = this.str(fields.test);
          l[i + 3] = this.str(fields.configHash);
          l[i + 4] = this.str(fields.gpuType);
          l[i + 5] = fields.key === undefined ? -1 : keyHash(fields.key);
        }
      } else if ((l[i] as number) > offset) l[i] = (l[i] as number) + delta;
    }
    this.data.size += delta;
    const fh = await fs.open(this.file, 'r');
    try {
      await this.save(fh);
    } finally {
      await fh.close();
    }
  }
}
