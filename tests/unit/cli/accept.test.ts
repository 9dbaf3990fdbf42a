// `disagg accept <test>`: the latest run of the test becomes the baseline start in history.jsonl.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { appendHistoryRecord, readHistoryRecords } from '../../../src/results/history.js';

async function disagg(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, cwd: '/' };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('disagg accept', () => {
  it('marks the latest run of the test and says which', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'accept-'));
    for (const [jobId, endTime] of [
      ['2', '2026-01-02T00:00:00Z'],
      ['1', '2026-01-01T00:00:00Z'],
    ] as const)
      await appendHistoryRecord(out, { test: 't', endTime, passed: false, metrics: {}, jobId });
    const r = await disagg(['accept', 't', '--json'], { OUTPUT_PATH: out });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: { test: 't', jobId: '2' } });
    expect((await readHistoryRecords(out)).map((h) => [h.jobId, h.accepted ?? false])).toEqual([
      ['2', true],
      ['1', false],
    ]);
  });

  it('exit 1 naming the file when the test has no run; exit 2 without a test id', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'accept-'));
    const none = await disagg(['accept', 'nope'], { OUTPUT_PATH: out });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`${path.join(out, 'history.jsonl')} has no run of nope`);
    expect((await disagg(['accept'], { OUTPUT_PATH: out })).code).toBe(2);
  });
});
