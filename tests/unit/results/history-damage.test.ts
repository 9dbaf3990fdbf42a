// A torn or garbage line in history.jsonl (a crash or a full disk leaves one) never fails a reader: it is
// skipped with one notice naming the file and line. The writer moves a torn last line aside before it
// appends, and `disagg accept` / `disagg compare` / `disagg report` say what they skipped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { readCompareInput } from '../../../src/results/compare-inputs.js';
import {
  acceptLatest,
  formatHistoryRecord,
  historyPath,
  readHistoryRecords,
  recordJobPart,
  type HistoryRecord,
} from '../../../src/results/history.js';

let out: string;
let file: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'history-damage-'));
  file = historyPath(out);
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const rec = (jobId: string, value = 10): HistoryRecord => ({
  test: 't',
  endTime: `2026-01-0${jobId}T00:00:00.000Z`,
  passed: true,
  metrics: { '4': { output_throughput: value } },
  jobId,
  host: 'local:h',
  submittedAt: `2026-01-0${jobId}T00:00:00.000Z`,
});
const whole = (...ids: string[]): string => ids.map((id) => formatHistoryRecord(rec(id))).join('');
/** What a crash or a full disk leaves: the start of a line, no newline. */
const TORN = '{"test":"t","endTime":"2026-01-0';

async function disagg(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { OUTPUT_PATH: out },
    cwd: out,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('reading a damaged history', () => {
  it('a torn last line is skipped with one notice naming file and line', async () => {
    fs.writeFileSync(file, whole('1', '2') + TORN);
    const notices: string[] = [];
    const records = await readHistoryRecords(out, (m) => notices.push(m));
    expect(records.map((r) => r.jobId)).toEqual(['1', '2']);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`${file}: skipped 1 damaged line(s) (line 3: not JSON`);
    expect(notices[0]).toContain('a torn last line');
  });

  it('garbage lines in the middle are skipped, the rest is read', async () => {
    fs.writeFileSync(file, `${whole('1')}\u0000\u0000garbage\n{"test":"t"}\n${whole('2')}`);
    const notices: string[] = [];
    expect((await readHistoryRecords(out, (m) => notices.push(m))).map((r) => r.jobId)).toEqual(['1', '2']);
    expect(notices).toEqual([
      expect.stringMatching(/skipped 2 damaged line\(s\) \(line 2: not JSON.*line 3: "endTime"/),
    ]);
  });
});

describe('writing after a torn line', () => {
  it('moves the torn fragment aside, then appends on a line of its own', async () => {
    fs.writeFileSync(file, whole('1') + TORN);
    const notices: string[] = [];
    expect(await recordJobPart(out, rec('2'), 'perf', (m) => notices.push(m))).toBe('appended');
    const aside = fs.readdirSync(out).filter((f) => f.startsWith('history.jsonl.torn-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(out, aside[0] as string), 'utf8')).toBe(TORN);
    expect(fs.readFileSync(file, 'utf8')).toBe(
      whole('1') + formatHistoryRecord({ ...rec('2'), parts: ['perf'] }),
    );
    expect(notices).toEqual([
      expect.stringMatching(/history\.jsonl: line 2 was torn .*moved it to .*history\.jsonl\.torn-/),
    ]);
    const heard: string[] = [];
    expect((await readHistoryRecords(out, (m) => heard.push(m))).map((r) => r.jobId)).toEqual(['1', '2']);
    expect(heard).toEqual([]);
  });

  it('a whole last record without its newline is kept, not moved aside', async () => {
    fs.writeFileSync(file, whole('1').trimEnd());
    await recordJobPart(out, rec('2'), 'perf', () => undefined);
    expect(fs.readdirSync(out).filter((f) => f.includes('.torn-'))).toEqual([]);
    expect((await readHistoryRecords(out)).map((r) => r.jobId)).toEqual(['1', '2']);
  });

  it('disagg accept repairs a torn tail and says so, and accepts the latest whole run', async () => {
    fs.writeFileSync(file, `${whole('1')}garbage\n${whole('2')}${TORN}`);
    const r = await disagg(['accept', 't']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: .*line 4 was torn/);
    expect(r.stderr).toMatch(/note: .*skipped 1 damaged line\(s\) \(line 2: not JSON/);
    const records = await readHistoryRecords(out, () => undefined);
    expect(records.find((x) => x.jobId === '2')?.accepted).toBe(true);
    const notices: string[] = [];
    expect((await acceptLatest(out, 'nope', (m) => notices.push(m))) ?? 'none').toBe('none');
  });
});

describe('compare and report say what they skipped', () => {
  it('readCompareInput reads the whole lines and carries one notice', async () => {
    fs.writeFileSync(file, whole('1', '2') + TORN);
    const input = await readCompareInput(out);
    expect(input.kind).toBe('history');
    expect(input.samples).toHaveLength(2);
    expect(input.notices).toEqual([expect.stringContaining(`${file}: skipped 1 damaged line(s) (line 3`)]);
  });

  it('disagg compare prints the notice (and exits as without the line)', async () => {
    fs.writeFileSync(file, whole('1', '2') + TORN);
    const r = await disagg(['compare', out]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/note: .*history\.jsonl: skipped 1 damaged line\(s\) \(line 3/);
    const j = await disagg(['compare', out, '--json']);
    expect(JSON.parse(j.stdout).skipped).toEqual([expect.stringContaining('line 3')]);
  });

  it('disagg report on the history file builds the page and says what it skipped', async () => {
    fs.writeFileSync(file, whole('1', '2') + TORN);
    const r = await disagg(['report', file, '--out', path.join(out, 'r.html')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/note: .*skipped 1 damaged line\(s\) \(line 3/);
  });
});
