// A step merging its part into its job's history line rewrites only the file's tail (a year of history
// is not copied for each test of a run), and a merge a crash cut short is finished by the next write.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tailRewriteRedoPath } from '../../../src/jobdir/files.js';
import {
  historyPath,
  readHistoryRecords,
  readHistoryRecordsOf,
  recordJobPart,
  type HistoryRecord,
} from '../../../src/results/history.js';
import { TAIL_REWRITE_MAX_BYTES } from '../../../src/util/tail-rewrite.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'history-rewrite-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const rec = (test: string, jobId: string, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
  test,
  endTime: '2026-12-01T00:00:00Z',
  passed: true,
  metrics: { '4': { output_throughput: 100 } },
  jobId,
  host: 'local:h',
  submittedAt: '2026-12-01T00:00:00Z',
  configHash: 'c',
  gpuType: 'GB200',
  ...extra,
});
const accuracy = (test: string, jobId: string) => rec(test, jobId, { metrics: {}, accuracy: { gsm8k: 0.9 } });

describe('merging a part into a history line', () => {
  it('rewrites the tail in place, not the file, and the index stays right', async () => {
    for (const [t, j] of [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ])
      await recordJobPart(out, rec(t as string, j as string), 'perf');
    const file = historyPath(out);
    const inode = fs.statSync(file).ino;
    expect(await recordJobPart(out, accuracy('b', '2'), 'accuracy')).toBe('merged');
    // Same file (a whole rewrite renames a new one into place), nothing left beside it.
    expect(fs.statSync(file).ino).toBe(inode);
    expect(fs.existsSync(tailRewriteRedoPath(file))).toBe(false);
    const records = await readHistoryRecords(out);
    expect(records.map((r) => [r.test, r.parts])).toEqual([
      ['a', ['perf']],
      ['b', ['perf', 'accuracy']],
      ['c', ['perf']],
    ]);
    // Read by the index: the lines after the merged one are found at their new offsets.
    expect(
      (await readHistoryRecordsOf(out, { test: 'c', configHash: 'c', gpuType: 'GB200' }))[0]?.jobId,
    ).toBe('3');
    expect(
      (await readHistoryRecordsOf(out, { test: 'b', configHash: 'c', gpuType: 'GB200' }))[0]?.parts,
    ).toEqual(['perf', 'accuracy']);
  });

  it('rewrites the whole file when the line is further from the end than the bound', async () => {
    await recordJobPart(out, rec('a', '1'), 'perf');
    const file = historyPath(out);
    // Lines of another tool after it, more than the bound.
    const filler = `${JSON.stringify({ test: 'x', note: 'y'.repeat(1000) })}\n`;
    fs.appendFileSync(file, filler.repeat(Math.ceil(TAIL_REWRITE_MAX_BYTES / filler.length) + 1));
    const inode = fs.statSync(file).ino;
    expect(await recordJobPart(out, accuracy('a', '1'), 'accuracy')).toBe('merged');
    expect(fs.statSync(file).ino).not.toBe(inode);
    const records = await readHistoryRecords(out, () => undefined);
    expect(records[0]?.parts).toEqual(['perf', 'accuracy']);
    // The other tool's lines are all still there, after it.
    const text = fs.readFileSync(file, 'utf8').split('\n');
    expect(text.filter((l) => l === filler.trimEnd())).toHaveLength(
      Math.ceil(TAIL_REWRITE_MAX_BYTES / filler.length) + 1,
    );
  });

  it('finishes a merge a crash cut short at the next write, and says so', async () => {
    await recordJobPart(out, rec('a', '1'), 'perf');
    await recordJobPart(out, rec('b', '2'), 'perf');
    const file = historyPath(out);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // The redo file of merging b's accuracy part, then a crash right after the cut.
    const merged = { ...JSON.parse(lines[1] as string), parts: ['perf', 'accuracy'] };
    const offset = (lines[0] as string).length + 1;
    const old = Buffer.from(`${lines[1]}\n`);
    const tail = Buffer.from(`${JSON.stringify(merged)}\n`);
    fs.writeFileSync(
      tailRewriteRedoPath(file),
      Buffer.concat([
        Buffer.from(`${JSON.stringify({ offset, length: tail.length, old: old.length })}\n`),
        tail,
        old,
      ]),
    );
    fs.truncateSync(file, offset);
    const notices: string[] = [];
    expect(await recordJobPart(out, rec('c', '3'), 'perf', (m) => notices.push(m))).toBe('appended');
    expect(notices.join('\n')).toMatch(/finished a line rewrite a crash had cut short/);
    const records = await readHistoryRecords(out);
    expect(records.map((r) => [r.test, r.parts])).toEqual([
      ['a', ['perf']],
      ['b', ['perf', 'accuracy']],
      ['c', ['perf']],
    ]);
    expect(fs.existsSync(tailRewriteRedoPath(file))).toBe(false);
  });
});
