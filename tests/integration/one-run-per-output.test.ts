// Two concurrent real runs (`npx vitest run`) on one OUTPUT_PATH with the local executor: one refuses
// at once naming the other (pid, start time, run id), the other passes; the CSV holds exactly one run's
// rows and the refused run made no job dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { readLedger, startSuite, type SuiteRun } from './helpers/suite-run.js';

const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');
const IDS = ['disagg_stress_short-1', 'disagg_stress_short-2', 'disagg_stress_short-3'];

describe('one run per OUTPUT_PATH', () => {
  it(
    'a second concurrent run refuses naming the first; the first passes alone',
    { timeout: 240_000 },
    async () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'one-run-'));
      const env = { DISAGG_EXECUTOR: 'local', DISAGG_BATCH_SIZE: '0', DISAGG_HEARTBEAT: '0' };
      const runs: SuiteRun[] = [startSuite(SHORT, out, env), startSuite(SHORT, out, env)];
      const order: number[] = [];
      const codes = await Promise.all(
        runs.map((r, i) =>
          r.exited.then((c) => {
            order.push(i);
            return c;
          }),
        ),
      );
      const outputs = runs.map((r) => r.output());
      const refusedIdx = outputs.findIndex((o) => o.includes(`OUTPUT_PATH ${out} is in use by run `));
      expect(refusedIdx, outputs.join('\n======\n')).toBeGreaterThanOrEqual(0);
      const winnerIdx = 1 - refusedIdx;
      const [refused, winner] = [outputs[refusedIdx], outputs[winnerIdx]];
      expect(codes[winnerIdx], winner).toBe(0);
      expect(codes[refusedIdx], refused).toBe(1);
      expect(winner).not.toContain('is in use by run');
      // The refused run ended first: it did not wait for the other's jobs.
      expect(order[0]).toBe(refusedIdx);

      const ledger = readLedger(out);
      // An ended run leaves the live ledger; its jobs (archived) name it: one run made them all.
      const runIds = new Set(ledger?.jobs.map((j) => j.runId));
      expect(runIds.size, JSON.stringify(ledger)).toBe(1);
      const winnerRun = { id: [...runIds][0] as string };
      // Named: run id, pid (the other vitest main process) and its start time.
      expect(refused).toContain(
        `is in use by run ${winnerRun?.id} (pid ${runs[winnerIdx].child.pid} on ${os.hostname()}, started `,
      );
      expect(refused).toMatch(
        /Wait until it ends, stop it \(kill -INT \d+\), or give this run another OUTPUT_PATH/,
      );
      // The refused run leaves the output dir's report to the run that owns it.
      expect(refused).toContain(
        `report not written: ${out} belongs to run ${winnerRun?.id} (pid ${runs[winnerIdx].child.pid}) now`,
      );
      expect(winner).toContain(`report:   ${path.join(out, 'report.html')}`);
      // Every test of the refused run failed with that, none submitted a job.
      for (const id of IDS) expect(refused).toMatch(new RegExp(`failed\\s+${id}\\s`));
      expect(ledger?.jobs.map((j) => j.testId).sort()).toEqual(IDS);
      expect(new Set(ledger?.jobs.map((j) => j.runId))).toEqual(new Set([winnerRun?.id]));

      // Job dirs: only the winner's run dir exists, and every test's latest link points into it.
      const runsDir = path.join(out, 'slurm_logs', 'runs');
      expect(fs.readdirSync(runsDir)).toEqual([winnerRun?.id]);
      for (const id of IDS)
        expect(fs.readlinkSync(path.join(out, 'slurm_logs', id))).toBe(
          path.join('runs', winnerRun?.id ?? '', id),
        );

      // 3 tests × 3 concurrencies × 2 metrics, once.
      const csv = Papa.parse<Record<string, string>>(
        fs.readFileSync(path.join(out, 'perf_script_test_results.csv'), 'utf8'),
        { header: true, skipEmptyLines: true },
      );
      expect(csv.errors).toEqual([]);
      expect(csv.data).toHaveLength(18);
      expect(fs.existsSync(path.join(out, '.disagg-run.lock')), 'the lock is released at the end').toBe(
        false,
      );
    },
  );
});
