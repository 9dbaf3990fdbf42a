// A torn last line in history.jsonl (what a crash or a full disk leaves) used to fail every later perf
// and stress test after its job ran, and never healed. Now the run's test passes, says which line it
// skipped, moves the fragment aside and appends its own line after the last whole one. Local executor
// (the simulator), one run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHistoryRecord, historyPath, readHistoryRecords } from '../../src/results/history.js';
import { repoRoot } from '../fixtures/paths.js';
import { assertionsOf, runSuite } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/gates');
const TEST_ID = 'disagg_perf_gated';
const TORN = '{"test":"disagg_perf_gated","endTime":"2026-0';

describe('a torn history line (local executor)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'torn-history-'));
  const configDir = path.join(work, 'configs');
  const out = path.join(work, 'out');
  fs.cpSync(SUITE, configDir, { recursive: true });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('the next perf test passes, names the line, and the history heals', async () => {
    fs.mkdirSync(out, { recursive: true });
    const earlier = formatHistoryRecord({
      test: 'other',
      endTime: '2026-01-01T00:00:00.000Z',
      passed: true,
      metrics: { '4': { output_throughput: 1 } },
    });
    fs.writeFileSync(historyPath(out), earlier + TORN);
    const { output, report } = runSuite(configDir, out, {
      json: path.join(work, 'report.json'),
      env: { DISAGG_EXECUTOR: 'local' },
      timeoutMs: 120_000,
    });
    const test = assertionsOf(report).find((a) => a.title === TEST_ID);
    expect(test?.status, output).toBe('passed');
    expect(output).toMatch(/history\.jsonl: skipped 1 damaged line\(s\) \(line 2: not JSON/);
    expect(output).toMatch(/history\.jsonl: line 2 was torn .*moved it to .*history\.jsonl\.torn-/);
    const aside = fs.readdirSync(out).filter((f) => f.startsWith('history.jsonl.torn-'));
    expect(aside.map((f) => fs.readFileSync(path.join(out, f), 'utf8'))).toEqual([TORN]);
    const heard: string[] = [];
    const records = await readHistoryRecords(out, (m) => heard.push(m));
    expect(heard).toEqual([]);
    expect(records.map((h) => h.test)).toEqual(['other', TEST_ID]);
  }, 150_000);
});
