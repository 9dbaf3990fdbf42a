// The index beside history.jsonl: built when missing, fresh when nothing changed, caught up when another
// tool appended, rebuilt when the file changed otherwise; the gate, accept and the writer read only their
// test's (or job's) lines through it, and keep it fresh when they write.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCompareInput } from '../../../src/results/compare-inputs.js';
import {
  HistoryIndex,
  decodeIndex,
  encodeIndex,
  indexPathOf,
  keyHash,
} from '../../../src/results/history-index.js';
import { compareSamples, splitLatest } from '../../../src/stats/compare.js';
import {
  acceptLatest,
  historyFieldsOf,
  historyPath,
  jobKey,
  readHistoryRecords,
  readHistoryRecordsOf,
  recordJobPart,
  type HistoryRecord,
} from '../../../src/results/history.js';

let out: string;
let file: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'history-index-'));
  file = historyPath(out);
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const rec = (test: string, n: number, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
  test,
  endTime: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  passed: true,
  metrics: { '4': { output_throughput: 100 + n } },
  jobId: String(n),
  host: 'local:h',
  submittedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
  configHash: test === 'b' && n % 2 ? 'c2' : 'c1',
  gpuType: 'GB200',
  ...extra,
});
const line = (r: HistoryRecord) => `${JSON.stringify(r)}\n`;
const open = () => HistoryIndex.open(file, historyFieldsOf);
/** What a full read says about one test (the index must agree). */
const fullRead = async (test: string, configHash?: string) =>
  (await readHistoryRecords(out)).filter(
    (r) => r.test === test && (configHash === undefined || r.configHash === configHash),
  );

function seed(n: number): void {
  const tests = ['a', 'b', 'c'];
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => line(rec(tests[i % 3] as string, i))).join(''));
}

describe('history index', () => {
  it('is built when missing, then fresh; it selects by test and config hash like a full read', async () => {
    seed(300);
    expect((await open()).how).toBe('rebuilt');
    expect(fs.existsSync(indexPathOf(file))).toBe(true);
    const again = await open();
    expect(again.how).toBe('fresh');
    expect(again.lineCount).toBe(300);
    expect(await readHistoryRecordsOf(out, { test: 'a' })).toEqual(await fullRead('a'));
    expect(await readHistoryRecordsOf(out, { test: 'b', configHash: 'c2', gpuType: 'GB200' })).toEqual(
      await fullRead('b', 'c2'),
    );
    expect(await readHistoryRecordsOf(out, { test: 'nope' })).toEqual([]);
  });

  it('catches up from the indexed size after another tool appended; a torn last line waits', async () => {
    seed(30);
    await open();
    fs.appendFileSync(file, line(rec('a', 100)) + line(rec('d', 101)));
    // Another writer is mid-line: that line is not indexed until it is complete.
    const half = line(rec('d', 102));
    fs.appendFileSync(file, half.slice(0, 20));
    const index = await open();
    expect(index.how).toBe('caught-up');
    expect(index.find({ test: 'd' }).map((l) => l.offset)).toHaveLength(1);
    expect((await readHistoryRecordsOf(out, { test: 'a' })).map((r) => r.jobId)).toContain('100');
    fs.appendFileSync(file, half.slice(20));
    expect((await readHistoryRecordsOf(out, { test: 'd' })).map((r) => r.jobId)).toEqual(['101', '102']);
  });

  it('parsed once per process: each open still sees every line once, whatever an earlier open added', async () => {
    seed(30);
    await open();
    // Fewer lines than a save takes: the first open catches them up in memory, the next starts from that.
    fs.appendFileSync(file, line(rec('a', 100)) + line(rec('d', 101)));
    const first = await open();
    expect(first.how).toBe('caught-up');
    expect(first.lineCount).toBe(32);
    const second = await open();
    expect(second.how).toBe('fresh');
    expect(second.lineCount).toBe(32);
    expect(second.find({ test: 'd' })).toHaveLength(1);
    // What an open adds (here: a merged part, which saves) never shows in an index opened before it.
    await recordJobPart(out, rec('d', 101, { metrics: {}, accuracy: { gsm8k: 0.9 } }), 'accuracy');
    expect(second.find({ test: 'd' })).toHaveLength(1);
    expect(second.lineCount).toBe(32);
    const third = await open();
    expect(third.how).toBe('fresh');
    expect(third.find({ test: 'd' })).toHaveLength(1);
    expect((await readHistoryRecordsOf(out, { test: 'd' }))[0]?.parts).toEqual(['perf', 'accuracy']);
    // A new index file (another process saved one) is read again, not taken from memory: this one
    // (hand-cut to its first line, its stamps kept) then shows that one line.
    const saved = decodeIndex(fs.readFileSync(indexPathOf(file)));
    if (!saved) throw new Error('the saved index does not decode');
    fs.writeFileSync(indexPathOf(file), encodeIndex({ ...saved, n: 1 }));
    expect((await open()).lineCount).toBe(1);
  });

  it('an index damaged inside (lines out of order, cut short) or of the older JSON layout is rebuilt', async () => {
    seed(30);
    // What versions before the binary index wrote: ignored, and removed once the new one is saved.
    const legacy = `${file}.index.json`;
    fs.writeFileSync(legacy, JSON.stringify({ version: 1, size: 0, tail: '', strings: [], lines: [] }));
    const first = await open();
    expect(first.how).toBe('rebuilt');
    expect(first.lineCount).toBe(30);
    expect(fs.existsSync(legacy)).toBe(false);
    const good = fs.readFileSync(indexPathOf(file));
    const saved = decodeIndex(good);
    if (!saved) throw new Error('the saved index does not decode');
    // Line 2 said to start before line 1 ends: the bytes are not an index of this history.
    const lines = saved.lines.slice();
    lines[6] = 3;
    fs.writeFileSync(indexPathOf(file), encodeIndex({ ...saved, lines }));
    expect((await open()).how).toBe('rebuilt');
    fs.writeFileSync(indexPathOf(file), good.subarray(0, good.length - 8));
    const rebuilt = await open();
    expect(rebuilt.how).toBe('rebuilt');
    expect(rebuilt.lineCount).toBe(30);
    expect(await readHistoryRecordsOf(out, { test: 'a' })).toEqual(await fullRead('a'));
  });

  it('decodes the same lines from bytes at any offset (a view when aligned, a copy when not)', async () => {
    seed(30);
    await open();
    const good = fs.readFileSync(indexPathOf(file));
    const aligned = decodeIndex(good);
    const shifted = decodeIndex(Buffer.concat([Buffer.alloc(3), good]).subarray(3));
    expect(aligned?.n).toBe(30);
    expect(shifted && [...shifted.lines]).toEqual(aligned && [...aligned.lines]);
  });

  it('two jobs whose keys share a hash: each part merges into its own job’s line', async () => {
    // 449599 and 612382 (same host and submit time) have the same 32-bit key hash.
    const at = '2026-01-01T00:00:00.000Z';
    const [one, two] = ['449599', '612382'].map((jobId) => rec('a', 1, { jobId, submittedAt: at }));
    if (!one || !two) throw new Error('unreachable');
    expect(keyHash(jobKey(one) as string)).toBe(keyHash(jobKey(two) as string));
    fs.writeFileSync(file, line(one) + line(two));
    await open();
    expect(await recordJobPart(out, { ...two, metrics: {}, accuracy: { gsm8k: 0.5 } }, 'accuracy')).toBe(
      'merged',
    );
    expect(await recordJobPart(out, { ...one, metrics: {}, accuracy: { gsm8k: 0.7 } }, 'accuracy')).toBe(
      'merged',
    );
    const byJob = new Map((await readHistoryRecords(out)).map((r) => [r.jobId, r]));
    expect(byJob.size).toBe(2);
    expect(byJob.get('612382')?.accuracy).toEqual({ gsm8k: 0.5 });
    expect(byJob.get('449599')?.accuracy).toEqual({ gsm8k: 0.7 });
  });

  it('is rebuilt when the history changed other than by appending, or the index is damaged', async () => {
    seed(30);
    await open();
    // Rewritten by hand: the first line's test renamed, the size even kept.
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('"test":"a"', '"test":"z"'));
    const index = await open();
    expect(index.how).toBe('rebuilt');
    expect(await readHistoryRecordsOf(out, { test: 'z' })).toEqual(await fullRead('z'));
    expect(await readHistoryRecordsOf(out, { test: 'z' })).toHaveLength(1);
    fs.writeFileSync(indexPathOf(file), '{"version":1,"lines":[1,2');
    expect((await open()).how).toBe('rebuilt');
    fs.rmSync(indexPathOf(file));
    expect((await open()).how).toBe('rebuilt');
    expect(await readHistoryRecordsOf(out, { test: 'a' })).toEqual(await fullRead('a'));
  });

  it('the gate reads only its own test’s lines; a broken record is skipped with one notice, never fatal', async () => {
    seed(30);
    // Valid JSON with a test id but no metrics: a full read skips it with a notice naming the file.
    fs.appendFileSync(file, `${JSON.stringify({ test: 'b', endTime: 'x', passed: true })}\n`);
    const notes: string[] = [];
    expect(await readHistoryRecords(out, (m) => notes.push(m))).toHaveLength(30);
    expect(notes).toEqual([expect.stringMatching(/history\.jsonl: skipped 1 damaged line\(s\) \(line 31/)]);
    const gateNotes: string[] = [];
    expect(await readHistoryRecordsOf(out, { test: 'a' }, (m) => gateNotes.push(m))).toHaveLength(10);
    expect(gateNotes).toEqual([]);
    // Its own test's gate skips it too, with one notice, and reads the rest.
    expect(await readHistoryRecordsOf(out, { test: 'b' }, (m) => gateNotes.push(m))).toHaveLength(10);
    expect(gateNotes).toEqual([
      expect.stringMatching(/history\.jsonl: skipped 1 damaged line\(s\) \(byte \d+/),
    ]);
  });

  it('accept and a merged part keep the index fresh and right', async () => {
    seed(30);
    await open();
    // The accuracy part of job 3 (test a) merges into its line: a longer line, later offsets shift.
    expect(
      await recordJobPart(out, { ...rec('a', 3), accuracy: { 'gsm8k/acc': 0.9 }, metrics: {} }, 'accuracy'),
    ).toBe('merged');
    expect((await open()).how).toBe('fresh');
    expect((await acceptLatest(out, 'b'))?.jobId).toBe('28');
    expect((await open()).how).toBe('fresh');
    for (const t of ['a', 'b', 'c'])
      expect(await readHistoryRecordsOf(out, { test: t })).toEqual(await fullRead(t));
    expect((await readHistoryRecordsOf(out, { test: 'a' })).find((r) => r.jobId === '3')?.parts).toEqual([
      'perf',
      'accuracy',
    ]);
    // Appends by the writer: found again by their job key, never twice.
    expect(await recordJobPart(out, rec('a', 500), 'perf')).toBe('appended');
    expect(await recordJobPart(out, rec('a', 500), 'perf')).toBe('already');
    expect(await readHistoryRecordsOf(out, { test: 'a' })).toEqual(await fullRead('a'));
  });

  it('compare reads each test’s last runs by the index and judges as from the whole file', async () => {
    // 3 tests × 100 runs; every 3rd run of test a failed (a baseline takes passed runs only).
    fs.writeFileSync(
      file,
      Array.from({ length: 300 }, (_, i) =>
        line(rec(['a', 'b', 'c'][i % 3] as string, i, { passed: i % 9 !== 0, configHash: 'c1' })),
      ).join(''),
    );
    const judge = (samples: Awaited<ReturnType<typeof readCompareInput>>['samples']) => {
      const { earlier, latest } = splitLatest(samples);
      return compareSamples(earlier, latest, { runs: 5, minRuns: 3, tolerance: 0.05, noiseK: 3 }).rows;
    };
    const whole = await readCompareInput(out);
    const recent = await readCompareInput(out, { recentRuns: 6 });
    expect(recent.samples.length).toBeLessThan(whole.samples.length / 3);
    expect(judge(recent.samples)).toEqual(judge(whole.samples));
  });
});

describe('lastPerTest (the report: the last runs of each test)', () => {
  it("gives each test's last n lines in file order, as the full index does, only of the tests asked", async () => {
    seed(30);
    const index = await open();
    const byFind = (tests?: Set<string>) => {
      const per = new Map<string, number[]>();
      for (const l of index.find({}))
        if (!tests || tests.has(l.test)) per.set(l.test, [...(per.get(l.test) ?? []), l.offset]);
      return [...per.values()].flatMap((offsets) => offsets.slice(-4)).sort((a, b) => a - b);
    };
    expect(index.lastPerTest(4).map((l) => l.offset)).toEqual(byFind());
    expect(index.lastPerTest(4)).toHaveLength(12);
    const onlyB = index.lastPerTest(4, new Set(['b']));
    expect(onlyB.map((l) => l.offset)).toEqual(byFind(new Set(['b'])));
    expect(new Set(onlyB.map((l) => l.test))).toEqual(new Set(['b']));
    expect(index.lastPerTest(100)).toHaveLength(index.lineCount);
  });
});
