import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimRunId,
  errorLinkFor,
  isRunId,
  latestLinkFor,
  latestLogsOf,
  linkLatest,
  newestRunDirs,
  newRunId,
  parseRunDir,
  renameToError,
  runDirFor,
} from '../../../src/broker/job-dirs.js';

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'job-dirs-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

/** A run of test `t` that wrote one log line. */
function run(runId: string, testId = 't', text = runId): string {
  const dir = runDirFor(out, runId, testId);
  linkLatest(dir);
  fs.writeFileSync(path.join(dir, '6_bench.log'), text);
  return dir;
}

const readLog = (dir: string) => fs.readFileSync(path.join(dir, '6_bench.log'), 'utf8');
const linkTarget = (link: string) => fs.readlinkSync(link);

describe('run ids', () => {
  it('look like YYYYMMDD-HHMMSS-hhhh (UTC) and sort by start time', () => {
    const a = newRunId(new Date('2026-11-29T05:15:22.999Z'), () => 'beef');
    expect(a).toBe('20261129-051522-beef');
    expect(isRunId(a)).toBe(true);
    expect(newRunId(new Date('2026-11-29T05:15:23Z')) > a).toBe(true);
  });

  it('two runs never share a run id in one output dir: the id is claimed exclusively', () => {
    const at = new Date('2026-11-29T05:15:22Z');
    // Ids of one second differ by 16 random bits…
    const ids = new Set(Array.from({ length: 50 }, () => newRunId(at)));
    expect(ids.size).toBeGreaterThan(45);
    // …and a second run that drew the same id is stopped before it writes anything.
    const same = newRunId(at, () => 'abcd');
    claimRunId(out, same);
    expect(() =>
      claimRunId(
        out,
        newRunId(at, () => 'abcd'),
      ),
    ).toThrow(/already used .* Start this run again/);
    claimRunId(
      out,
      newRunId(at, () => 'abce'),
    );
  });
});

describe('job dir layout', () => {
  it('puts each run in its own dir and keeps an earlier run’s logs on a rerun', () => {
    const first = run('20261129-010000-aaaa', 't', 'first');
    const second = run('20261129-020000-bbbb', 't', 'second');
    expect(first).toBe(path.join(out, 'slurm_logs', 'runs', '20261129-010000-aaaa', 't'));
    expect(first).not.toBe(second);
    expect(readLog(first)).toBe('first');
    expect(readLog(second)).toBe('second');
  });

  it('slurm_logs/<test> is a relative link to the latest run', () => {
    run('20261129-010000-aaaa');
    const second = run('20261129-020000-bbbb');
    const link = latestLinkFor(out, 't');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(linkTarget(link)).toBe(path.join('runs', '20261129-020000-bbbb', 't'));
    expect(fs.realpathSync(link)).toBe(fs.realpathSync(second));
    expect(readLog(link)).toBe('20261129-020000-bbbb');
    // No temp links are left behind.
    expect(fs.readdirSync(path.join(out, 'slurm_logs')).sort()).toEqual(['runs', 't']);
  });

  it('parses a run dir back into output path, run id and test id', () => {
    const dir = runDirFor(out, '20261129-010000-aaaa', 'disagg_x');
    expect(parseRunDir(dir)).toEqual({ outputPath: out, runId: '20261129-010000-aaaa', testId: 'disagg_x' });
    expect(parseRunDir(`${dir}_ERROR`)?.testId).toBe('disagg_x');
    expect(parseRunDir(path.join(out, 'slurm_logs', 'disagg_x'))).toBeUndefined();
  });

  it('a failed run is renamed _ERROR, linked as <test>_ERROR, and <test> is removed when it was that run', () => {
    const dir = run('20261129-010000-aaaa');
    const moved = renameToError(dir);
    expect(moved).toBe(`${dir}_ERROR`);
    expect(fs.existsSync(dir)).toBe(false);
    expect(readLog(moved as string)).toBe('20261129-010000-aaaa');
    expect(linkTarget(errorLinkFor(out, 't'))).toBe(path.join('runs', '20261129-010000-aaaa', 't_ERROR'));
    expect(fs.existsSync(latestLinkFor(out, 't'))).toBe(false);
    expect(() => fs.lstatSync(latestLinkFor(out, 't'))).toThrow(/ENOENT/);
  });

  it('a failed run leaves a newer run’s <test> link alone, and a later failure moves only the _ERROR link', () => {
    const older = run('20261129-010000-aaaa');
    const newer = run('20261129-020000-bbbb');
    renameToError(older);
    expect(fs.realpathSync(latestLinkFor(out, 't'))).toBe(fs.realpathSync(newer));
    renameToError(newer);
    expect(fs.realpathSync(errorLinkFor(out, 't'))).toBe(fs.realpathSync(`${newer}_ERROR`));
    // Both failed runs keep their logs.
    expect(readLog(`${older}_ERROR`)).toBe('20261129-010000-aaaa');
    expect(readLog(`${newer}_ERROR`)).toBe('20261129-020000-bbbb');
  });

  it('moves a real slurm_logs/<test> dir of an older version to runs/legacy-<mtime>/ instead of deleting it', () => {
    const legacy = latestLinkFor(out, 't');
    fs.mkdirSync(legacy, { recursive: true });
    fs.writeFileSync(path.join(legacy, '6_bench.log'), 'legacy');
    const legacyErr = errorLinkFor(out, 't');
    fs.mkdirSync(legacyErr);
    fs.writeFileSync(path.join(legacyErr, '6_bench.log'), 'legacy error');
    const dir = run('20261129-010000-aaaa');
    expect(fs.lstatSync(legacy).isSymbolicLink()).toBe(true);
    renameToError(dir);
    const runs = fs.readdirSync(path.join(out, 'slurm_logs', 'runs'));
    const legacyRuns = runs.filter((r) => r.startsWith('legacy-'));
    expect(legacyRuns).toHaveLength(1);
    const kept = path.join(out, 'slurm_logs', 'runs', legacyRuns[0]);
    expect(readLog(path.join(kept, 't'))).toBe('legacy');
    expect(readLog(path.join(kept, 't_ERROR'))).toBe('legacy error');
  });

  it('a dir outside the layout gets no link and is just renamed; an existing _ERROR dir is kept aside', () => {
    const dir = path.join(out, 'elsewhere', 't');
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(`${dir}_ERROR`);
    expect(linkLatest(dir)).toBe(false);
    expect(renameToError(dir)).toBe(`${dir}_ERROR`);
    expect(fs.readdirSync(path.join(out, 'elsewhere'))).toHaveLength(2);
    expect(renameToError(path.join(out, 'missing'))).toBeUndefined();
  });
});

describe('latestLogsOf (DEBUG_MODE)', () => {
  it('finds the latest run, whether it was renamed _ERROR or not', async () => {
    expect(latestLogsOf(out, 't')).toBeUndefined();
    const first = run('20261129-010000-aaaa');
    expect(latestLogsOf(out, 't')).toBe(first);
    renameToError(first);
    expect(latestLogsOf(out, 't')).toBe(`${first}_ERROR`);
    // Link times decide which is newer; make sure the clock moved.
    await new Promise((r) => setTimeout(r, 20));
    const second = run('20261129-020000-bbbb');
    expect(latestLogsOf(out, 't')).toBe(second);
    await new Promise((r) => setTimeout(r, 20));
    renameToError(second);
    expect(latestLogsOf(out, 't')).toBe(`${second}_ERROR`);
  });

  it('finds a run dir without links, and a legacy real dir', () => {
    const dir = runDirFor(out, '20261129-010000-aaaa', 't');
    fs.mkdirSync(`${dir}_ERROR`, { recursive: true });
    expect(latestLogsOf(out, 't')).toBe(`${dir}_ERROR`);
    fs.mkdirSync(latestLinkFor(out, 'u'), { recursive: true });
    expect(latestLogsOf(out, 'u')).toBe(latestLinkFor(out, 'u'));
    // A test with a link never needs the listing of every run (a run's report of its linked tests).
    const never = () => {
      throw new Error('listed every run dir');
    };
    expect(latestLogsOf(out, 'u', never)).toBe(latestLinkFor(out, 'u'));
    // One without asks for it, once given as a function.
    let asked = 0;
    const listing = () => (asked++, newestRunDirs(out));
    expect(latestLogsOf(out, 't', listing)).toBe(`${dir}_ERROR`);
    expect(asked).toBe(1);
  });
});

describe('newestRunDirs (a report of the whole output dir)', () => {
  it('gives every test the run dir latestLogsOf finds for it alone, from one listing', () => {
    // Run dirs without links: the newest by mtime wins, its own or its _ERROR one.
    const at = (dir: string, seconds: number) => {
      fs.mkdirSync(dir, { recursive: true });
      fs.utimesSync(dir, seconds, seconds);
    };
    at(runDirFor(out, '20261129-010000-aaaa', 't'), 1_000);
    at(`${runDirFor(out, '20261129-020000-bbbb', 't')}_ERROR`, 2_000);
    at(runDirFor(out, '20261129-010000-aaaa', 'u'), 3_000);
    at(runDirFor(out, '20261129-020000-bbbb', 'u'), 2_500);
    at(`${runDirFor(out, '20261129-020000-bbbb', 'v')}_ERROR`, 1_500);
    fs.writeFileSync(path.join(out, 'slurm_logs', 'runs', '20261129-010000-aaaa', 'jobs-archive.jsonl'), '');
    const all = newestRunDirs(out);
    expect(Object.fromEntries(all)).toEqual({
      t: `${runDirFor(out, '20261129-020000-bbbb', 't')}_ERROR`,
      u: runDirFor(out, '20261129-010000-aaaa', 'u'),
      v: `${runDirFor(out, '20261129-020000-bbbb', 'v')}_ERROR`,
      // A dir named `v_ERROR` may also be the test `v_ERROR` of its own, as for one test.
      v_ERROR: `${runDirFor(out, '20261129-020000-bbbb', 'v')}_ERROR`,
      t_ERROR: `${runDirFor(out, '20261129-020000-bbbb', 't')}_ERROR`,
    });
    for (const test of ['t', 'u', 'v', 'w']) {
      expect(latestLogsOf(out, test, all), test).toBe(latestLogsOf(out, test));
    }
  });
});
