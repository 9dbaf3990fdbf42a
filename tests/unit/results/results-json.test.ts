import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeResultsJson } from '../../../src/results/results-json.js';

describe('writeResultsJson', () => {
  it('writes results.json atomically and leaves no temp file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rj-'));
    try {
      const logDir = path.join(dir, 'slurm_logs', 't');
      const data = { blocks: [{ concurrency: 4, metrics: { median_ttft_ms: 1 } }], verdicts: [] };
      const file = await writeResultsJson(logDir, data);
      expect(file).toBe(path.join(logDir, 'results.json'));
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(data);
      await Promise.all([1, 2, 3].map((i) => writeResultsJson(logDir, { i })));
      expect(await readdir(logDir)).toEqual(['results.json']);
      expect([1, 2, 3]).toContain((JSON.parse(await readFile(file, 'utf8')) as { i: number }).i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
