// `vitest run` on an output dir whose jobs.json is unreadable or malformed: a clear error naming the file
// and what to do, at once, with no job submitted and no wait for vitest's 300 s close timeout (issue 12).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../fixtures/paths.js';
import { startSuite } from './helpers/suite-run.js';

const SHORT = path.join(repoRoot, 'tests/fixtures/suites/short');

describe('vitest run with a bad ledger', () => {
  for (const [name, text, problem] of [
    ['not JSON', '{not json', 'is not valid JSON'],
    ['a null job', '{"version":1,"runs":[],"jobs":[null]}', 'jobs[0] is null, not a job entry'],
  ]) {
    it(`fails fast and says why: ${name}`, { timeout: 120_000 }, async () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-ledger-'));
      const file = path.join(out, 'jobs.json');
      fs.writeFileSync(file, text);
      const began = Date.now();
      const run = startSuite(SHORT, out, { DISAGG_EXECUTOR: 'local' });
      const code = await Promise.race([
        run.exited,
        new Promise((r) => setTimeout(() => r('still running'), 90_000)),
      ]);
      if (code === 'still running') run.child.kill('SIGKILL');
      expect(code, run.output()).not.toBe('still running');
      expect(code).not.toBe(0);
      expect(Date.now() - began).toBeLessThan(90_000);
      expect(run.output()).toContain(`${file}: ${problem}`);
      expect(run.output()).toContain('Move it aside');
      // Nothing was submitted and the ledger is as it was.
      expect(fs.existsSync(path.join(out, 'slurm_logs'))).toBe(false);
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    });
  }
});
