// `disagg cancel` leaves alone what is already final: a job a Ctrl-C cancelled (CANCELLED in the ledger)
// or one that ended is never cancelled a second time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ledger, type LedgerJob } from '../../../src/broker/ledger.js';
import { main } from '../../../src/cli/main.js';

function job(jobId: string, state: LedgerJob['state'], endedAt?: string): LedgerJob {
  const now = new Date().toISOString();
  return {
    testId: `t${jobId}`,
    configHash: 'h',
    executor: 'local',
    // No such process: cancelling it would be an error only a final job can avoid.
    pid: 2 ** 22 + Number(jobId),
    jobId,
    jobDir: `/nowhere/${jobId}`,
    state,
    runId: 'r',
    submittedAt: now,
    updatedAt: now,
    endedAt,
    consumed: false,
  };
}

describe('disagg cancel', () => {
  it('skips jobs whose ledger state is final and says how many it left alone', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cancel-final-'));
    const ledger = new Ledger(out);
    const ended = new Date().toISOString();
    await ledger.update((d) => {
      d.jobs.push(job('1', 'CANCELLED', ended), job('2', 'COMPLETED', ended), job('3', 'FAILED', ended));
    });
    const before = fs.readFileSync(ledger.file, 'utf8');
    let stdout = '';
    const code = await main(['cancel', '--output-path', out], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stdout += t),
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code, stdout).toBe(0);
    expect(stdout).toBe(`no live jobs in ${ledger.file} (3 already final, left alone)\n`);
    // The entries keep their own state and reason (not "disagg cancel").
    expect(JSON.parse(fs.readFileSync(ledger.file, 'utf8'))).toEqual(JSON.parse(before));
  });
});
