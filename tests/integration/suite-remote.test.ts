// The whole plugin against the real local cluster: simulator jobs go ssh → sbatch → slurmd as the
// unprivileged user, logs come back over SFTP, the CSV and verdicts are written; then DEBUG_MODE judges
// the same logs again without submitting anything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { readLedger, startSuite } from './helpers/suite-run.js';

const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');
const IDS = ['disagg_stress_short-1', 'disagg_stress_short-2', 'disagg_stress_short-3'];

let out: string;
let code: number | null;
let output: string;

beforeAll(async () => {
  requireClusterEnv();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-ssh-'));
  const run = startSuite(SHORT, out, { DISAGG_EXECUTOR: 'ssh' });
  code = await run.exited;
  output = run.output();
}, 300_000);

describe('stress suite over SSH on the local SLURM cluster', () => {
  it('passes, with every job submitted once through sbatch and COMPLETED', () => {
    expect(code, output).toBe(0);
    const ledger = readLedger(out);
    expect(ledger?.jobs.map((j) => j.testId).sort()).toEqual(IDS);
    for (const j of ledger?.jobs ?? []) {
      expect(j.executor).toBe('ssh');
      expect(j.state).toBe('COMPLETED');
      expect(j.jobId).toMatch(/^\d+$/);
    }
  });

  it('brings the logs back and writes one CSV row per metric per concurrency', () => {
    for (const id of IDS) {
      const dir = path.join(out, 'slurm_logs', id);
      for (const f of ['6_bench.log', '7_accuracy_eval_gsm8k.log', 'results.json', 'config.yaml']) {
        expect(fs.existsSync(path.join(dir, f)), `${id}/${f}`).toBe(true);
      }
      expect(
        fs.readdirSync(dir).some((f) => /^8_done_\d+\.txt$/.test(f)),
        `${id}: 8_done file`,
      ).toBe(true);
    }
    const csv = Papa.parse<Record<string, string>>(
      fs.readFileSync(path.join(out, 'perf_script_test_results.csv'), 'utf8'),
      { header: true, skipEmptyLines: true },
    );
    expect(csv.errors).toEqual([]);
    // 3 tests × 3 concurrencies (1 2 4) × 2 default metrics.
    expect(csv.data).toHaveLength(18);
    expect(new Set(csv.data.map((r) => r.metric_type))).toEqual(
      new Set(['SERVER_MEDIAN_TTFT', 'SERVER_MEDIAN_E2EL']),
    );
    expect(csv.data.filter((r) => r.test_name.endsWith('_con:4'))).toHaveLength(6);
  });

  it('prints each accuracy verdict, and a closing summary with job ids and log dirs', () => {
    for (const id of IDS) expect(output).toMatch(new RegExp(`${id}: accuracy gsm8k (PASSED|FAILED)`));
    const summary = output.slice(output.indexOf('vitest-disagg summary'));
    // `job N COMPLETED | queued 2s, ran 5s[, reached con 1] | con 1,2,4 | gsm8k …`
    for (const id of IDS)
      expect(summary).toMatch(
        new RegExp(
          `passed\\s+${id}\\s+job \\d+ COMPLETED \\| queued [^,]+, ran [^|]+ \\| con 1,2,4 \\| gsm8k`,
        ),
      );
    expect(summary).toContain(`perf CSV: ${path.join(out, 'perf_script_test_results.csv')}`);
  });

  it('DEBUG_MODE=1 judges the collected logs again without submitting', { timeout: 120_000 }, async () => {
    const before = readLedger(out)?.jobs.length;
    const run = startSuite(SHORT, out, { DISAGG_EXECUTOR: 'ssh', DEBUG_MODE: '1', DEBUG_JOB_ID: '4242' });
    expect(await run.exited, run.output()).toBe(0);
    expect(readLedger(out)?.jobs.length).toBe(before);
    expect(run.output()).toMatch(/DEBUG_MODE=1/);
  });
});
