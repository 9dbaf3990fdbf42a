// The summary of each test's latest archived job: it agrees with reading every archive, it is caught up
// when an archive grows or a run is added, and a damaged, stale or lying-about-its-archives summary is
// rebuilt from the archives (the source of truth), never trusted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countArchivedEntries,
  latestArchivedJobs,
  summaryFileOf,
} from '../../../src/broker/archive-summary.js';
import {
  appendToArchive,
  archiveFileOf,
  countArchived,
  readArchive,
} from '../../../src/broker/ledger-archive.js';
import { Ledger } from '../../../src/broker/ledger.js';
import { main } from '../../../src/cli/main.js';
import type { LedgerJob } from '../../../src/broker/ledger.js';
import { loadOutputDir } from '../../../src/report/from-output.js';
import { judgedJob, runIdOf } from './ledger-files.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-summary-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

function job(r: number, test: string, jobId = `${r}-${test}`): LedgerJob {
  return judgedJob(out, r, {
    testId: test,
    configHash: `h-${test}`,
    jobId,
    jobDir: `/jobs/${r}/${test}`,
    state: r % 2 ? 'FAILED' : 'COMPLETED',
  });
}

/** Each test's latest job as reading every archive gives it (the report's rule before the summary). */
async function latestFromArchives(): Promise<Record<string, string>> {
  const latest: Record<string, string> = {};
  for (const j of (await readArchive(out)).jobs) latest[j.testId] = j.jobId;
  return latest;
}

const asMap = (jobs: LedgerJob[]) => Object.fromEntries(jobs.map((j) => [j.testId, j.jobId]));

async function seed(runs: number): Promise<void> {
  // Test "b" runs only in the first runs: its latest job is an old run's.
  for (let r = 0; r < runs; r++)
    await appendToArchive(out, [job(r, 'a'), ...(r < 2 ? [job(r, 'b')] : []), job(r, 'c')]);
}

describe('latestArchivedJobs', () => {
  it('agrees with reading every archive, and saves the summary it then reads alone', async () => {
    await seed(5);
    const first = await latestArchivedJobs(out);
    expect(first.source).toBe('rebuilt');
    expect(asMap(first.jobs)).toEqual(await latestFromArchives());
    expect(asMap(first.jobs)).toEqual({ a: '4-a', b: '1-b', c: '4-c' });
    expect(fs.existsSync(summaryFileOf(out))).toBe(true);
    const second = await latestArchivedJobs(out);
    expect(second.source).toBe('summary');
    expect(second.jobs).toEqual(first.jobs);
  });

  it('catches up with an archive that grew and a run that is new', async () => {
    await seed(3);
    await latestArchivedJobs(out);
    await appendToArchive(out, [job(2, 'b', 'late-b')]); // run 2's archive grows
    await appendToArchive(out, [job(3, 'a')]); // a new run
    const got = await latestArchivedJobs(out);
    expect(got.source).toBe('caught-up');
    expect(asMap(got.jobs)).toEqual(await latestFromArchives());
    expect(asMap(got.jobs)).toMatchObject({ a: '3-a', b: 'late-b', c: '2-c' });
  });

  it('rebuilds a damaged summary (not JSON, wrong shape) from the archives', async () => {
    await seed(3);
    await latestArchivedJobs(out);
    for (const damage of ['{"version":1,"archives":{', '{"version":1,"archives":{},"latest":[]}', 'null']) {
      fs.writeFileSync(summaryFileOf(out), damage);
      const got = await latestArchivedJobs(out);
      expect(got.source).toBe('rebuilt');
      expect(asMap(got.jobs)).toEqual(await latestFromArchives());
      expect(JSON.parse(fs.readFileSync(summaryFileOf(out), 'utf8'))).toMatchObject({ version: 1 });
    }
  });

  it('rebuilds a stale summary: an archive rewritten shorter or removed is never trusted', async () => {
    await seed(4);
    await latestArchivedJobs(out);
    // Run 3's archive is cut to its first entry: its "c" job is gone, so "c" falls back to run 2's.
    const file = archiveFileOf(out, runIdOf(3));
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').split('\n')[0] + '\n');
    let got = await latestArchivedJobs(out);
    expect(got.source).toBe('rebuilt');
    expect(asMap(got.jobs)).toEqual({ a: '3-a', b: '1-b', c: '2-c' });
    // Runs 0 and 1 removed: "b" is no longer archived at all.
    for (const r of [0, 1]) fs.rmSync(path.dirname(archiveFileOf(out, runIdOf(r))), { recursive: true });
    got = await latestArchivedJobs(out);
    expect(got.source).toBe('rebuilt');
    expect(asMap(got.jobs)).toEqual({ a: '3-a', c: '2-c' });
  });

  it('a summary whose stamps do not match the archives is rebuilt, whatever it claims', async () => {
    await seed(2);
    await latestArchivedJobs(out);
    const saved = JSON.parse(fs.readFileSync(summaryFileOf(out), 'utf8')) as {
      archives: Record<string, { size: number; mtimeMs: number }>;
      latest: Record<string, { job: LedgerJob }>;
    };
    // A forged latest job, with a stamp that no longer fits the archive (same size, other mtime).
    (saved.latest.a as { job: LedgerJob }).job.jobId = 'forged';
    const run = Object.keys(saved.archives)[0] as string;
    (saved.archives[run] as { mtimeMs: number }).mtimeMs = 1;
    fs.writeFileSync(summaryFileOf(out), JSON.stringify(saved));
    const got = await latestArchivedJobs(out);
    expect(got.source).toBe('rebuilt');
    expect(asMap(got.jobs).a).toBe('1-a');
  });

  it('counts torn archive lines as readArchive does', async () => {
    await seed(2);
    fs.appendFileSync(archiveFileOf(out, runIdOf(1)), '{"torn\n');
    const got = await latestArchivedJobs(out);
    expect(got.skipped).toBe((await readArchive(out)).skipped);
    expect(got.skipped).toBe(1);
    expect((await latestArchivedJobs(out)).skipped).toBe(1); // also when read from the summary
  });

  it('an output dir without archives has no latest jobs and no summary', async () => {
    expect(await latestArchivedJobs(out)).toEqual({ jobs: [], skipped: 0, source: 'rebuilt' });
    expect(fs.existsSync(summaryFileOf(out))).toBe(false);
  });
});

describe('countArchivedEntries (disagg cancel)', () => {
  it('agrees with counting every archive: without a summary, with one, after growth and damage', async () => {
    await seed(3);
    expect(await countArchivedEntries(out)).toBe(await countArchived(out));
    await latestArchivedJobs(out);
    expect(await countArchivedEntries(out)).toBe(await countArchived(out));
    await appendToArchive(out, [job(2, 'b', 'late-b'), job(3, 'a')]);
    fs.appendFileSync(archiveFileOf(out, runIdOf(0)), '{"torn\n');
    expect(await countArchivedEntries(out)).toBe(await countArchived(out));
    expect(await countArchivedEntries(out)).toBe(3 + 3 + 2 + 1 + 1 + 1);
    fs.writeFileSync(summaryFileOf(out), '{"version":1');
    expect(await countArchivedEntries(out)).toBe(await countArchived(out));
  });

  it("takes an archive's count from the summary only while its size and mtime are unchanged", async () => {
    await seed(2);
    await latestArchivedJobs(out);
    const saved = JSON.parse(fs.readFileSync(summaryFileOf(out), 'utf8')) as {
      archives: Record<string, { lines: number }>;
    };
    for (const a of Object.values(saved.archives)) a.lines = 100;
    fs.writeFileSync(summaryFileOf(out), JSON.stringify(saved));
    expect(await countArchivedEntries(out)).toBe(200); // both archives as the summary says
    await appendToArchive(out, [job(1, 'd')]); // run 1's archive changed: counted from the file
    expect(await countArchivedEntries(out)).toBe(100 + 4); // run 0 from the summary, run 1: a, b, c, d
  });

  it('disagg cancel counts the archived jobs after a report summarised them and a run added more', async () => {
    await seed(3);
    await loadOutputDir(out); // writes the summary
    await appendToArchive(out, [job(3, 'a')]);
    let text = '';
    const code = await main(['cancel', '--output-path', out], {
      stdout: (t) => (text += t),
      stderr: () => undefined,
      env: { HOME: os.homedir() },
      cwd: out,
    });
    expect(code).toBe(0);
    expect(text).toBe(`no live jobs in ${new Ledger(out).file} (9 already final, left alone)\n`);
  });
});

describe('the report of a whole output dir', () => {
  it('shows each test with its latest job, from the summary, also after the summary was damaged', async () => {
    await seed(3);
    const states = async () =>
      Object.fromEntries((await loadOutputDir(out)).tests.map((t) => [t.testId, t.jobId]));
    const before = await states();
    expect(before).toEqual({ a: '2-a', b: '1-b', c: '2-c' });
    fs.writeFileSync(summaryFileOf(out), 'garbage');
    expect(await states()).toEqual(before);
  });
});
