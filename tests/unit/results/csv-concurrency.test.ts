// 8 writers (4 worker threads + 4 child processes) append 200 rows each to one CSV at once:
// the lock must give exactly one header and 1600 intact rows.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { PERF_CSV_COLUMNS } from '../../../src/results/perf-rows.js';
import { repoRoot } from '../../fixtures/paths.js';

const SCRIPT = path.join(repoRoot, 'tests/fixtures/scripts/append-perf-rows.ts');
const THREAD_ENTRY = path.join(repoRoot, 'tests/fixtures/scripts/tsx-worker.mjs');
const ROWS = 200;
const BATCH = 10;

function inThread(csv: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(THREAD_ENTRY, { workerData: { script: SCRIPT, csv, id, rows: ROWS, batch: BATCH } });
    w.once('error', reject);
    w.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`worker ${id} exited with ${code}`)),
    );
  });
}

function inProcess(csv: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, csv, id, String(ROWS), String(BATCH)], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`process ${id} exited ${code}: ${err}`)),
    );
  });
}

describe('appendPerfRows under concurrency', () => {
  it('4 threads + 4 processes × 200 rows → 1 header, 1600 intact rows', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'csv-lock-'));
    try {
      const csv = path.join(dir, 'perf_script_test_results.csv');
      const ids = ['t0', 't1', 't2', 't3', 'p0', 'p1', 'p2', 'p3'];
      await Promise.all(ids.map((id) => (id.startsWith('t') ? inThread(csv, id) : inProcess(csv, id))));

      const text = await readFile(csv, 'utf8');
      const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
      expect(parsed.errors).toEqual([]);
      expect(parsed.meta.fields).toEqual([...PERF_CSV_COLUMNS]);
      expect(text.split('\n').filter((l) => l.startsWith('network_name,')).length).toBe(1);
      expect(parsed.data).toHaveLength(ids.length * ROWS);
      for (const id of ids) {
        const mine = parsed.data.filter((r) => r.test_name.startsWith(`test_stress[writer_${id}]`));
        expect(mine).toHaveLength(ROWS);
        // Each writer's rows are intact and in its own order.
        mine.forEach((r, i) => {
          expect(r.test_name).toBe(`test_stress[writer_${id}]_con:${i}`);
          expect(r.command).toBe(`disagg_benchmark --model="m,${id}" --fp4 --concurrency=${i}`);
          expect(r.perf_metric).toBe(String(i + 0.25));
          expect(r.metric_type).toBe('SERVER_MEDIAN_TTFT');
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
