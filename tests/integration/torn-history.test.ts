// A torn last line in history.jsonl (what a crash or a full disk leaves) used to fail every later perf
// and stress test after its job ran, and never healed. Now the run's test passes, says which line it
// skipped, moves the fragment aside and appends its own line after the last whole one. Local executor
// (the simulator), one run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHistoryRecord, historyPath, readHistoryRecords } from '../../src/results/history.js';
import { repoRoot } from '../fixtures/paths.js';
import { VITEST } from './helpers/suite-run.js';

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
    const json = path.join(work, 'report.json');
    const r = spawnSync(
      process.execPath,
      [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          DISAGG_CONFIG_DIR: configDir,
          DISAGG_EXECUTOR: 'local',
          OUTPUT_PATH: out,
          GPU_TYPE: 'GB200',
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const output = r.stdout + r.stderr;
    expect(fs.existsSync(json), output).toBe(true);
    const report = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      testResults: Array<{ assertionResults: Array<{ title: string; status: string }> }>;
    };
    const test = report.testResults.flatMap((f) => f.assertionResults).find((a) => a.title === TEST_ID);
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
