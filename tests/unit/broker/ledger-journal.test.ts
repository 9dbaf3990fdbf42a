// The live ledger's change journal: a write appends one line with what it changed (not a rewrite of every
// live job); every reader sees jobs.json with the journal applied; a torn last line is skipped; a crash
// between an append and a compaction, or inside a compaction (after the rename, before the journal is
// removed), loses nothing and applies nothing twice; a journal that outgrows what is live is folded in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, LedgerError, type LedgerData, type LedgerJob } from '../../../src/broker/ledger.js';
import { LEDGER_JOURNAL } from '../../../src/jobdir/files.js';

let out: string;
let journal: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-journal-'));
  journal = path.join(out, LEDGER_JOURNAL);
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const RUN = '20260101-000000-abcd';

function job(i: number, over: Partial<LedgerJob> = {}): LedgerJob {
  return {
    testId: `test_${i}`,
    configHash: `h${i}`,
    executor: 'slurm',
    jobId: String(1000 + i),
    jobDir: `/jobs/${i}`,
    state: 'PENDING',
    runId: RUN,
    submittedAt: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z`,
    updatedAt: '2026-01-01T00:00:00.000Z',
    consumed: false,
    ...over,
  };
}

const lines = (): string[] =>
  fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean) : [];

/** A ledger with an open run and `n` live jobs, written through the journal (no compaction). */
async function ledgerWith(n: number): Promise<Ledger> {
  const ledger = new Ledger(out);
  await ledger.update((d) => void d.runs.push({ id: RUN, pid: process.pid, startedAt: 'x' }));
  await ledger.update((_d, view) => {
    for (let i = 0; i < n; i++) view.addJob(job(i));
  });
  return ledger;
}

describe('the ledger journal', () => {
  it('a write appends one line holding only what changed; a fresh reader replays it', async () => {
    const ledger = await ledgerWith(1000);
    expect(fs.existsSync(ledger.file)).toBe(false);
    const before = lines().length;
    await ledger.update((_d, view) => {
      const j = view.findJob('1500', 'test_500');
      if (j) j.state = 'RUNNING';
    });
    const added = lines().slice(before);
    expect(added).toHaveLength(1);
    // O(changed): one job's state, not the 1,000 live entries (~300 KB).
    expect(added[0]?.length).toBeLessThan(300);
    expect(JSON.parse(added[0] as string)).toMatchObject({
      set: [{ k: ['slurm', '1500', 'test_500', job(500).submittedAt], f: { state: 'RUNNING' } }],
    });
    const read = await new Ledger(out).read();
    expect(read.jobs).toHaveLength(1000);
    expect(read.jobs.find((j) => j.jobId === '1500')?.state).toBe('RUNNING');
    expect(read.jobs.filter((j) => j.state === 'RUNNING')).toHaveLength(1);
    expect(read.runs.map((r) => r.id)).toEqual([RUN]);
  });

  it('removed fields, intents and archived jobs are replayed too', async () => {
    const ledger = await ledgerWith(3);
    await ledger.update((_d, view) => {
      const j = view.findJob('1001', 'test_1');
      if (j) j.cancelRefused = 'no';
      view.addIntent({
        token: 'tok-1',
        testId: 'test_9',
        runId: RUN,
        executor: 'slurm',
        configHash: 'h9',
        localLogDir: '/l',
        createdAt: 'x',
      });
    });
    await ledger.update((d, view) => {
      const j = view.findJob('1001', 'test_1');
      if (j) delete j.cancelRefused;
      // Judged: it moves to its run's archive in this write.
      const k = view.findJob('1002', 'test_2');
      if (k) Object.assign(k, { state: 'COMPLETED', endedAt: 'y', consumed: true });
      d.runs[0] = { ...(d.runs[0] as LedgerData['runs'][number]), pid: process.pid };
    });
    const read = await new Ledger(out).read();
    expect(read.jobs.map((j) => j.jobId)).toEqual(['1000', '1001']);
    expect(read.jobs[1]).not.toHaveProperty('cancelRefused');
    expect(read.intents?.map((i) => i.token)).toEqual(['tok-1']);
    await ledger.update((_d, view) => view.removeIntent('tok-1'));
    expect((await new Ledger(out).read()).intents).toEqual([]);
    expect((await new Ledger(out).readAll()).jobs.map((j) => j.jobId)).toEqual(['1000', '1001', '1002']);
  });

  it('skips a torn last line, and the next write starts on a line of its own', async () => {
    const ledger = await ledgerWith(2);
    const whole = await new Ledger(out).read();
    // A crash mid-append: half a record, no newline.
    fs.appendFileSync(journal, '{"g":0,"set":[{"k":["slurm","1000","test_0",');
    const reader = new Ledger(out);
    expect(await reader.read()).toEqual(whole);
    // Another process (the next run) writes after it: its line is not glued to the torn one.
    const next = new Ledger(out);
    const notices: string[] = [];
    next.onNotice = (m) => void notices.push(m);
    await next.update((_d, view) => {
      const j = view.findJob('1001', 'test_1');
      if (j) j.state = 'RUNNING';
    });
    const read = await new Ledger(out).read();
    expect(read.jobs.map((j) => j.state)).toEqual(['PENDING', 'RUNNING']);
    expect(notices.join('\n')).toMatch(/jobs\.journal\.jsonl: skipped 1 damaged line.*torn last line/);
    void ledger;
  });

  it('a crash between appends and a compaction loses nothing: the next process reads and folds them', async () => {
    const ledger = await ledgerWith(5);
    await ledger.update((_d, view) => {
      const j = view.findJob('1003', 'test_3');
      if (j) j.state = 'RUNNING';
    });
    const expected = await new Ledger(out).read();
    // The process dies here (no compaction at close): jobs.json does not exist, the journal has it all.
    expect(fs.existsSync(ledger.file)).toBe(false);
    const next = new Ledger(out);
    await next.update(() => undefined, { compact: true });
    expect(fs.existsSync(journal)).toBe(false);
    const snapshot = JSON.parse(fs.readFileSync(next.file, 'utf8')) as LedgerData;
    expect(snapshot.generation).toBe(1);
    expect(snapshot.jobs).toEqual(expected.jobs);
    expect(await new Ledger(out).read()).toEqual({ ...expected, generation: 1 });
  });

  it('a crash after the compaction renamed jobs.json, before it removed the journal, applies nothing twice', async () => {
    const ledger = await ledgerWith(3);
    // Job 1 ends and is judged: archived in this write (a `del` line); job 0 runs.
    await ledger.update((_d, view) => {
      const a = view.findJob('1000', 'test_0');
      if (a) a.state = 'RUNNING';
      const b = view.findJob('1001', 'test_1');
      if (b) Object.assign(b, { state: 'COMPLETED', endedAt: 'y', consumed: true });
    });
    const journalText = fs.readFileSync(journal, 'utf8');
    await ledger.update(
      (_d, view) => {
        const a = view.findJob('1000', 'test_0');
        if (a) a.state = 'COMPLETED';
      },
      { compact: true },
    );
    const folded = await new Ledger(out).read();
    // The journal as it was before the compaction removed it: lines of generation 0 beside jobs.json of 1.
    fs.writeFileSync(journal, journalText);
    const read = await new Ledger(out).read();
    expect(read).toEqual(folded);
    // Not resurrected by the old `put` of job 1, nor set back to RUNNING by the old line of job 0.
    expect(read.jobs.map((j) => [j.jobId, j.state])).toEqual([
      ['1000', 'COMPLETED'],
      ['1002', 'PENDING'],
    ]);
    // The next write continues from the snapshot; the stale lines stay skipped until the next fold.
    await new Ledger(out).update((_d, view) => {
      const c = view.findJob('1002', 'test_2');
      if (c) c.state = 'RUNNING';
    });
    expect((await new Ledger(out).read()).jobs.map((j) => j.state)).toEqual(['COMPLETED', 'RUNNING']);
  });

  it('a journal that outgrows what is live is folded into jobs.json by rename', async () => {
    const ledger = new Ledger(out, 50, 4_000);
    await ledger.update((d) => void d.runs.push({ id: RUN, pid: process.pid, startedAt: 'x' }));
    await ledger.update((_d, view) => {
      for (let i = 0; i < 3; i++) view.addJob(job(i));
    });
    // 100 writes of ~150 bytes against 3 live jobs (bound: 4 × ~400 bytes each, at least 4,000).
    for (let n = 0; n < 100; n++)
      await ledger.update((_d, view) => {
        const j = view.findJob(String(1000 + (n % 3)), `test_${n % 3}`);
        if (j) j.updatedAt = `2026-01-01T00:01:${String(n % 60).padStart(2, '0')}.${n}Z`;
      });
    const snapshot = JSON.parse(fs.readFileSync(ledger.file, 'utf8')) as LedgerData;
    expect(snapshot.generation).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(journal) ? fs.statSync(journal).size : 0).toBeLessThanOrEqual(4_800);
    const read = await new Ledger(out).read();
    expect(read.jobs.map((j) => j.updatedAt)).toEqual([
      '2026-01-01T00:01:39.99Z',
      '2026-01-01T00:01:37.97Z',
      '2026-01-01T00:01:38.98Z',
    ]);
  });

  it('a journal that continues a newer jobs.json than the one on disk is an error naming both', async () => {
    const ledger = await ledgerWith(2);
    await ledger.update(() => undefined, { compact: true });
    await ledger.update((_d, view) => {
      const j = view.findJob('1000', 'test_0');
      if (j) j.state = 'RUNNING';
    });
    // jobs.json replaced by an older copy (generation 0): the journal's lines are of generation 1.
    const old = JSON.parse(fs.readFileSync(ledger.file, 'utf8')) as LedgerData;
    fs.writeFileSync(ledger.file, JSON.stringify({ ...old, generation: 0 }));
    const err = await new Ledger(out).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as Error).message).toMatch(/jobs\.json: is older than its journal .*jobs\.journal\.jsonl/);
  });

  it('never appends through a symlink in the journal’s place', async () => {
    const ledger = await ledgerWith(1);
    const elsewhere = path.join(out, 'elsewhere');
    fs.writeFileSync(elsewhere, '');
    fs.rmSync(journal);
    fs.symlinkSync(elsewhere, journal);
    await expect(
      new Ledger(out).update((_d, view) => {
        const j = view.findJob('1000', 'test_0');
        if (j) j.state = 'RUNNING';
      }),
    ).rejects.toThrow(/jobs\.journal\.jsonl is a symlink/);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('');
    void ledger;
  });
});
