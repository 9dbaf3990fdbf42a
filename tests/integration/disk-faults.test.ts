// Real disk faults, not injected ones: a small tmpfs filled up (ENOSPC) and a tmpfs remounted read-only
// (EROFS) as the output dir. The results writers, `disagg accept` and a whole run fail at once with an
// error naming the file and saying why; what was written before (CSV rows, history lines) stays intact;
// a torn row a full disk left behind is moved aside by the next append once space is free.
//
// Mounting needs root (or CAP_SYS_ADMIN). Without it the tests FAIL, saying so: never skipped, so a CI
// that cannot run them shows it. No SLURM lab needed: the run is the local executor's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { appendPerfRows, perfCsvHeader, perfCsvPath, readPerfCsv } from '../../src/results/csv.js';
import {
  historyPath,
  readHistoryFile,
  recordJobPart,
  type HistoryRecord,
} from '../../src/results/history.js';
import type { PerfRow } from '../../src/results/perf-rows.js';
import { tailRewriteRedoPath } from '../../src/jobdir/files.js';
import { repoRoot } from '../fixtures/paths.js';
import { jobPerfRows } from '../fixtures/perf-rows.js';
import { resultOf, runSuite } from './helpers/suite-run.js';

const SUITE = path.join(repoRoot, 'tests/fixtures/suites/gates');
const TEST_ID = 'disagg_perf_gated';
/**
 * Far below the 69–79 s the old retry loops took on EROFS, far above a failing write (or a CLI's start)
 * on a machine loaded by a CPU hog.
 */
const AT_ONCE_MS = 30_000;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-faults-'));
const mounted: string[] = [];

/** A tmpfs of `size` at a new dir under `work`; throws why when this machine cannot mount one. */
function mountTmpfs(name: string, size: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(
      `cannot mount a tmpfs at ${dir} (${(e.stderr?.toString() || e.message).trim()}; uid ${process.getuid?.()}): ` +
        'these disk-fault tests need root or CAP_SYS_ADMIN to mount a small tmpfs (a full disk) and remount ' +
        'it read-only. Run them as root (npm test does); they are never skipped',
      { cause: err },
    );
  }
  mounted.push(dir);
  return dir;
}

afterAll(() => {
  // Even after a failure: a lazy unmount if a process still has a file open there.
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
});

/** Fill the file system of `dir` to the last byte (ENOSPC from then on). */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler');
  try {
    fs.writeFileSync(filler, Buffer.alloc(16 * 1024 * 1024, 1));
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
  return filler;
}

/** Rows of one job; many metrics make a batch far larger than the free end of the file's last page. */
const rows = (concurrency: number, metrics = 2): PerfRow[] =>
  jobPerfRows(
    'disagg_perf_disk',
    concurrency,
    Object.fromEntries(Array.from({ length: metrics }, (_, i) => [`metric_${i}`, concurrency * 100 + i])),
  );

const record = (jobId: string, metrics = 1): HistoryRecord => ({
  test: 'disagg_perf_disk',
  endTime: `2026-12-0${jobId}T00:00:00.000Z`,
  passed: true,
  jobId,
  metrics: { '4': Object.fromEntries(Array.from({ length: metrics }, (_, i) => [`m${i}`, i])) },
});

async function disagg(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env, cwd: '/' };
  const t0 = Date.now();
  const code = await main(argv, io);
  return { code, stdout, stderr, ms: Date.now() - t0 };
}

/** One whole run of the stress suite (local executor) on `out`; its one test's result. */
function runOn(out: string) {
  const configDir = path.join(work, `configs-${path.basename(out)}`);
  fs.cpSync(SUITE, configDir, { recursive: true });
  const { exit, output, report } = runSuite(configDir, out, {
    json: path.join(work, `report-${path.basename(out)}.json`),
    env: { DISAGG_EXECUTOR: 'local' },
    timeoutMs: 180_000,
  });
  const test = resultOf(report, TEST_ID, output);
  return {
    exit,
    status: test.status,
    ms: test.duration ?? Infinity,
    failure: test.failureMessages.join('\n'),
    output,
  };
}

/**
 * A mount made once for a describe block. A failed mount is thrown by every test that needs it, so each
 * test FAILS with the reason (a throwing hook could leave its tests reported as skipped).
 */
function mountOnce(name: string, size: string, then?: (dir: string) => Promise<void>): () => string {
  let dir: string | undefined;
  let error: Error | undefined;
  beforeAll(async () => {
    try {
      dir = mountTmpfs(name, size);
      await then?.(dir);
    } catch (err) {
      error = err as Error;
    }
  });
  return () => {
    if (error || dir === undefined) throw error ?? new Error(`${name}: not mounted`);
    return dir;
  };
}

describe('a full disk (tmpfs, ENOSPC)', () => {
  const mountedDir = mountOnce('full', '256k');

  it('the CSV and history writers and disagg accept fail at once naming the file; nothing written is lost', async () => {
    const out = mountedDir();
    const csv = perfCsvPath(out);
    const history = historyPath(out);
    await appendPerfRows(csv, rows(1));
    await recordJobPart(out, record('1'), 'perf');
    const csvBefore = fs.readFileSync(csv, 'utf8');
    const historyBefore = fs.readFileSync(history, 'utf8');
    const filler = fill(out);

    let t0 = Date.now();
    const csvErr = await appendPerfRows(csv, rows(2, 80)).catch((e: unknown) => e as Error);
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS);
    expect(csvErr).toBeInstanceOf(Error);
    expect((csvErr as Error).message).toContain(`cannot write ${csv}: the disk is full (ENOSPC)`);
    // The part of the batch that fit was cut off again: the file is as it was, no torn row.
    expect(fs.readFileSync(csv, 'utf8')).toBe(csvBefore);

    t0 = Date.now();
    const histErr = await recordJobPart(out, record('2', 600), 'perf').catch((e: unknown) => e as Error);
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS);
    expect((histErr as Error).message).toContain(`cannot write ${history}: the disk is full (ENOSPC)`);
    expect(fs.readFileSync(history, 'utf8')).toBe(historyBefore);
    // Merging a part into a line (a rewrite of the file's tail) is refused the same way, leaving nothing.
    const accuracyPart: HistoryRecord = { ...record('1'), metrics: {}, accuracy: { gsm8k: 0.9 } };
    const mergeErr = await recordJobPart(out, accuracyPart, 'accuracy').catch((e: unknown) => e as Error);
    expect((mergeErr as Error).message).toContain(`cannot write ${history}`);
    expect((mergeErr as Error).message).toContain('the disk is full (ENOSPC)');
    expect(fs.readFileSync(history, 'utf8')).toBe(historyBefore);
    expect(fs.existsSync(tailRewriteRedoPath(history))).toBe(false);

    const accept = await disagg(['accept', 'disagg_perf_disk'], { OUTPUT_PATH: out });
    expect(accept.code, accept.stdout + accept.stderr).toBe(1);
    expect(accept.ms).toBeLessThan(AT_ONCE_MS);
    expect(accept.stderr).toContain(history);
    expect(accept.stderr).toContain('the disk is full (ENOSPC)');
    expect(fs.readFileSync(history, 'utf8')).toBe(historyBefore);

    // Space again: the same writes go through, after the lines that were there.
    fs.rmSync(filler);
    expect(await appendPerfRows(csv, rows(2, 80))).toMatchObject({ written: 80 });
    expect(await recordJobPart(out, record('2', 600), 'perf')).toBe('appended');
    expect(await recordJobPart(out, accuracyPart, 'accuracy')).toBe('merged');
    expect(fs.readFileSync(csv, 'utf8').startsWith(csvBefore)).toBe(true);
    expect(readPerfCsv(fs.readFileSync(csv, 'utf8'), csv)).toMatchObject({ skipped: [] });
    expect(readPerfCsv(fs.readFileSync(csv, 'utf8'), csv).rows).toHaveLength(82);
    const h = await readHistoryFile(history);
    expect([h.records.map((r) => r.jobId), h.skipped]).toEqual([['1', '2'], []]);
    expect((await disagg(['accept', 'disagg_perf_disk'], { OUTPUT_PATH: out })).code).toBe(0);
  });

  it('a row a full disk tore (a writer that could not undo it) is skipped by readers, then moved aside by the next append', async () => {
    const out = mountedDir();
    const dir = path.join(out, 'torn');
    const csv = perfCsvPath(dir);
    await appendPerfRows(csv, rows(1));
    const before = fs.readFileSync(csv, 'utf8');
    const filler = fill(out);
    // One long quoted field: the disk runs out inside it, as in a kill -9 mid-append on a full disk.
    const big = `${'x,'.repeat(8)}"${'y'.repeat(64 * 1024)}",z\n`;
    expect(() => fs.appendFileSync(csv, big)).toThrow(/ENOSPC/);
    const torn = fs.readFileSync(csv, 'utf8');
    expect(torn.length).toBeGreaterThan(before.length);
    expect(torn.endsWith('\n')).toBe(false);

    // The readers: the whole rows, one notice naming the file and the line.
    const r = await disagg(['compare', csv, '--json'], {});
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { skipped?: string[] }).skipped).toEqual([
      expect.stringContaining(
        `${csv}: skipped 1 damaged line(s) (line 4: a quoted field is never closed, a torn last line`,
      ),
    ]);

    // Still full: the next append fails naming the file, and leaves the rows before intact.
    const err = await appendPerfRows(csv, rows(2), { onNotice: () => undefined }).catch(
      (e: unknown) => e as Error,
    );
    expect((err as Error).message).toMatch(/disk is full \(ENOSPC\)/);
    expect((err as Error).message).toContain(csv);
    expect(fs.readFileSync(csv, 'utf8').startsWith(before)).toBe(true);

    fs.rmSync(filler);
    const notices: string[] = [];
    await appendPerfRows(csv, rows(2), { onNotice: (n) => notices.push(n) });
    const after = fs.readFileSync(csv, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(readPerfCsv(after, csv)).toMatchObject({ skipped: [] });
    expect(readPerfCsv(after, csv).rows.map((x) => x.concurrency)).toEqual([1, 1, 2, 2]);
    const aside = fs.readdirSync(dir).filter((f) => f.includes('.torn-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, aside[0] as string), 'utf8')).toBe(torn.slice(before.length));
    expect(notices).toEqual([expect.stringContaining(`moved it to ${path.join(dir, aside[0] as string)}`)]);
  });

  it('a history line a full disk tore is skipped by readers, then moved aside by the next write', async () => {
    const out = mountedDir();
    const dir = path.join(out, 'torn-history');
    const history = historyPath(dir);
    await recordJobPart(dir, record('1'), 'perf');
    const before = fs.readFileSync(history, 'utf8');
    const filler = fill(out);
    expect(() => fs.appendFileSync(history, JSON.stringify(record('2', 5000)) + '\n')).toThrow(/ENOSPC/);
    const torn = fs.readFileSync(history, 'utf8');
    expect(torn.endsWith('\n')).toBe(false);
    const read = await readHistoryFile(history);
    expect([read.records.map((r) => r.jobId), read.skipped.map((x) => x.line)]).toEqual([['1'], [2]]);

    // Still full: the repair cannot copy the fragment aside, so it fails naming that file and leaves
    // neither a half-written copy nor a changed history.
    const err = await recordJobPart(dir, record('3'), 'perf', () => undefined).catch(
      (e: unknown) => e as Error,
    );
    expect((err as Error).message).toMatch(/\.torn-.*the disk is full \(ENOSPC\)/);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.torn-'))).toEqual([]);
    expect(fs.readFileSync(history, 'utf8')).toBe(torn);

    fs.rmSync(filler);
    expect(await recordJobPart(dir, record('3'), 'perf', () => undefined)).toBe('appended');
    const after = await readHistoryFile(history);
    expect([after.records.map((r) => r.jobId), after.skipped]).toEqual([['1', '3'], []]);
    expect(fs.readFileSync(history, 'utf8').startsWith(before)).toBe(true);
    const aside = fs.readdirSync(dir).filter((f) => f.includes('.torn-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, aside[0] as string), 'utf8')).toBe(torn.slice(before.length));
  });

  it('a whole run on a full disk fails at once; the next write after freeing space keeps every earlier line', async () => {
    const out = mountedDir();
    const dir = path.join(out, 'run');
    const csv = perfCsvPath(dir);
    await appendPerfRows(csv, rows(1));
    await recordJobPart(dir, record('1'), 'perf');
    const csvBefore = fs.readFileSync(csv, 'utf8');
    const historyBefore = fs.readFileSync(historyPath(dir), 'utf8');
    const filler = fill(out);
    const r = runOn(dir);
    expect(r.status, r.output).toBe('failed');
    expect(r.exit).toBe(1);
    expect(r.ms).toBeLessThan(AT_ONCE_MS);
    expect(r.failure).toMatch(/cannot write \/.*: the disk is full \(ENOSPC\)/);
    expect(fs.readFileSync(csv, 'utf8')).toBe(csvBefore);
    expect(fs.readFileSync(historyPath(dir), 'utf8')).toBe(historyBefore);
    fs.rmSync(filler);
    // The writers carry on where the file ended (a run's own append, without the cost of a second run).
    await appendPerfRows(csv, rows(2));
    expect(readPerfCsv(fs.readFileSync(csv, 'utf8'), csv)).toMatchObject({ skipped: [] });
    expect(
      fs
        .readFileSync(csv, 'utf8')
        .split('\n')
        .filter((l) => l === perfCsvHeader()),
    ).toHaveLength(1);
  });
});

describe('a read-only output dir (tmpfs remounted ro, EROFS)', () => {
  let csvBefore = '';
  let historyBefore = '';
  const mountedDir = mountOnce('ro', '256k', async (out) => {
    await appendPerfRows(perfCsvPath(out), rows(1));
    await recordJobPart(out, record('1'), 'perf');
    csvBefore = fs.readFileSync(perfCsvPath(out), 'utf8');
    historyBefore = fs.readFileSync(historyPath(out), 'utf8');
    // The run's own dir: earlier CSV rows and history lines (its index cannot be saved there).
    await appendPerfRows(perfCsvPath(path.join(out, 'run')), rows(1));
    await recordJobPart(path.join(out, 'run'), record('1'), 'perf');
    execFileSync('mount', ['-o', 'remount,ro', out], { stdio: 'pipe' });
  });

  it('disagg accept fails at once (no retries), naming the file and the read-only file system', async () => {
    const out = mountedDir();
    const r = await disagg(['accept', 'disagg_perf_disk'], { OUTPUT_PATH: out });
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(AT_ONCE_MS);
    expect(r.stderr).toContain(historyPath(out));
    expect(r.stderr).toContain('read-only (EROFS)');
    expect(fs.readFileSync(historyPath(out), 'utf8')).toBe(historyBefore);
  });

  it('the CSV and history writers fail at once naming the file', async () => {
    const out = mountedDir();
    const t0 = Date.now();
    await expect(appendPerfRows(perfCsvPath(out), rows(2))).rejects.toThrow(
      new RegExp(`${perfCsvPath(out)}: the file system is read-only \\(EROFS\\)`),
    );
    await expect(recordJobPart(out, record('2'), 'perf')).rejects.toThrow(
      new RegExp(`${historyPath(out)}: the file system is read-only \\(EROFS\\)`),
    );
    expect(Date.now() - t0).toBeLessThan(AT_ONCE_MS);
    expect(fs.readFileSync(perfCsvPath(out), 'utf8')).toBe(csvBefore);
  });

  it('a whole run fails at once, naming the file it could not write', () => {
    const out = mountedDir();
    const dir = path.join(out, 'run');
    const before = fs.readFileSync(perfCsvPath(dir), 'utf8');
    const r = runOn(dir);
    expect(r.status, r.output).toBe('failed');
    expect(r.exit).toBe(1);
    expect(r.ms).toBeLessThan(AT_ONCE_MS);
    expect(r.failure).toMatch(new RegExp(`read-only file system.*${dir}/`));
    expect(fs.readFileSync(perfCsvPath(dir), 'utf8')).toBe(before);
  });
});
