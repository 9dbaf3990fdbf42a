// Where a test's logs live on this machine, decided once for every run:
//
//   $OUTPUT_PATH/slurm_logs/runs/<runId>/<test>          the job dir of one run (never reused)
//   $OUTPUT_PATH/slurm_logs/runs/<runId>/<test>_ERROR    the same dir once its test failed
//   $OUTPUT_PATH/slurm_logs/<test>          -> runs/<runId>/<test>        latest run (relative symlink)
//   $OUTPUT_PATH/slurm_logs/<test>_ERROR    -> runs/<runId>/<test>_ERROR  latest failed run
//   $OUTPUT_PATH/slurm_logs/runs/legacy-<mtime>/<test>   a real dir an older version left at slurm_logs/<test>
//
// A new run never deletes or overwrites an earlier run's logs, two runs (even concurrent ones) never
// share a dir, and `slurm_logs/<test>` stays where people look first, as in the original framework.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const LOGS_DIR = 'slurm_logs';
export const RUNS_DIR = 'runs';
export const ERROR_SUFFIX = '_ERROR';

const RUN_ID_RE = /^\d{8}-\d{6}-[0-9a-f]{4}$/;

/** A run id, `YYYYMMDD-HHMMSS-<4 hex>` (UTC): sorts by start time; the random part separates runs started in the same second. */
export function newRunId(
  now: Date = new Date(),
  random: () => string = () => randomBytes(2).toString('hex'),
): string {
  const iso = now.toISOString(); // 2026-11-29T05:15:22.123Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return `${stamp}-${random()}`;
}

export function isRunId(id: string): boolean {
  return RUN_ID_RE.test(id);
}

/**
 * Claim a run id in an output dir: `slurm_logs/runs/<runId>/` is created exclusively, so two runs that
 * drew the same id (same second, same 16 random bits) can never share job dirs: the second one stops.
 */
export function claimRunId(outputPath: string, runId: string): void {
  const dir = path.join(logsRoot(outputPath), RUNS_DIR, runId);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new Error(
      `run id ${runId} is already used in ${path.dirname(dir)}: another run started in the same second and ` +
        `drew the same id. Start this run again.`,
      { cause: err },
    );
  }
}

/** `$OUTPUT_PATH/slurm_logs`. */
export function logsRoot(outputPath: string): string {
  return path.join(outputPath, LOGS_DIR);
}

/** The job dir of a test in one run: `$OUTPUT_PATH/slurm_logs/runs/<runId>/<test>`. */
export function runDirFor(outputPath: string, runId: string, testId: string): string {
  return path.join(logsRoot(outputPath), RUNS_DIR, runId, testId);
}

/** `$OUTPUT_PATH/slurm_logs/<test>`: the link to the latest run's dir of a test (where users look first). */
export function latestLinkFor(outputPath: string, testId: string): string {
  return path.join(logsRoot(outputPath), testId);
}

/** `$OUTPUT_PATH/slurm_logs/<test>_ERROR`: the link to the latest failed run's dir of a test. */
export function errorLinkFor(outputPath: string, testId: string): string {
  return `${latestLinkFor(outputPath, testId)}${ERROR_SUFFIX}`;
}

/** Where a run dir is once its test failed. */
export function errorDirFor(runDir: string): string {
  return runDir.endsWith(ERROR_SUFFIX) ? runDir : `${runDir}${ERROR_SUFFIX}`;
}

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function compactTime(ms: number): string {
  return newRunId(new Date(ms), () => '').slice(0, -1);
}

/**
 * A real dir at a link's place (an older version wrote `slurm_logs/<test>` directly) is moved to
 * `slurm_logs/runs/legacy-<mtime>/<name>`, never deleted. Returns where it went.
 */
export function moveLegacyDir(outputPath: string, linkPath: string): string | undefined {
  const st = lstat(linkPath);
  if (!st || st.isSymbolicLink()) return undefined;
  const base = path.join(logsRoot(outputPath), RUNS_DIR, `legacy-${compactTime(st.mtimeMs)}`);
  let target = path.join(base, path.basename(linkPath));
  // Two legacy dirs of one test with the same mtime second: keep both.
  for (let i = 2; lstat(target) && i < 1000; i++) target = path.join(`${base}.${i}`, path.basename(linkPath));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.renameSync(linkPath, target);
  return target;
}

/** Point `linkPath` at `targetDir` with a relative symlink, replaced atomically (temp link, then rename). */
function pointLink(outputPath: string, linkPath: string, targetDir: string): void {
  moveLegacyDir(outputPath, linkPath);
  const rel = path.relative(path.dirname(linkPath), targetDir);
  const tmp = `${linkPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.mkdirSync(path.dirname(linkPath), { recursive: true });
  fs.symlinkSync(rel, tmp, 'dir');
  try {
    fs.renameSync(tmp, linkPath);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** The parts of a run dir, `<outputPath>/slurm_logs/runs/<runId>/<test>[_ERROR]`; undefined for any other path. */
export function parseRunDir(dir: string): { outputPath: string; runId: string; testId: string } | undefined {
  const abs = path.resolve(dir);
  const runDir = path.dirname(abs);
  const runs = path.dirname(runDir);
  const root = path.dirname(runs);
  if (path.basename(runs) !== RUNS_DIR || path.basename(root) !== LOGS_DIR) return undefined;
  const name = path.basename(abs);
  const testId = name.endsWith(ERROR_SUFFIX) ? name.slice(0, -ERROR_SUFFIX.length) : name;
  return { outputPath: path.dirname(root), runId: path.basename(runDir), testId };
}

/**
 * Make `slurm_logs/<test>` point at this run dir (created if missing). A dir outside the layout (a test
 * passing its own path) gets no link: returns false.
 */
export function linkLatest(runDir: string): boolean {
  const parts = parseRunDir(runDir);
  if (!parts) return false;
  fs.mkdirSync(runDir, { recursive: true });
  pointLink(parts.outputPath, latestLinkFor(parts.outputPath, parts.testId), runDir);
  return true;
}

/** Whether `linkPath` is a symlink that resolves to `dir`. */
function linksTo(linkPath: string, dir: string): boolean {
  const st = lstat(linkPath);
  if (!st?.isSymbolicLink()) return false;
  return path.resolve(path.dirname(linkPath), fs.readlinkSync(linkPath)) === path.resolve(dir);
}

/**
 * A failed test's run dir becomes `<dir>_ERROR` (as in the original), `slurm_logs/<test>_ERROR` points at
 * it, and `slurm_logs/<test>` is removed if it pointed at this run's dir (a newer run's link is left
 * alone). Nothing is deleted: a dir already at the target is moved aside. Returns the renamed dir, or
 * undefined when `runDir` does not exist. A dir outside the layout is just renamed.
 */
export function renameToError(runDir: string): string | undefined {
  if (!fs.existsSync(runDir)) return undefined;
  const target = errorDirFor(runDir);
  if (target === runDir) return runDir;
  if (lstat(target)) {
    // Only when a run dir is reused (a re-attached job failed again) or outside the layout.
    fs.renameSync(target, `${target}.${compactTime(Date.now())}-${randomBytes(2).toString('hex')}`);
  }
  const parts = parseRunDir(runDir);
  const latest = parts && latestLinkFor(parts.outputPath, parts.testId);
  const wasLatest = latest !== undefined && linksTo(latest, runDir);
  fs.renameSync(runDir, target);
  if (!parts || !latest) return target;
  pointLink(parts.outputPath, errorLinkFor(parts.outputPath, parts.testId), target);
  if (wasLatest && linksTo(latest, runDir)) fs.rmSync(latest, { force: true });
  return target;
}

/** The dir a link or legacy dir stands for, with the time it was made latest; undefined if absent or dangling. */
function candidate(p: string): { dir: string; at: number } | undefined {
  const st = lstat(p);
  if (!st) return undefined;
  if (!st.isSymbolicLink()) return st.isDirectory() ? { dir: p, at: st.mtimeMs } : undefined;
  const dir = path.resolve(path.dirname(p), fs.readlinkSync(p));
  return fs.existsSync(dir) ? { dir, at: st.mtimeMs } : undefined;
}

/**
 * The latest logs of a test, renamed `_ERROR` or not (DEBUG_MODE judges them again): the newer of the
 * `slurm_logs/<test>` and `slurm_logs/<test>_ERROR` links (or legacy dirs); without either, the newest
 * run dir of the test under `slurm_logs/runs/`. Undefined when the test has no logs.
 */
export function latestLogsOf(
  outputPath: string,
  testId: string,
  /** Every test's newest run dir (`newestRunDirs`), or how to get it: asked only for a test without a link. */
  runDirs?: ReadonlyMap<string, string> | (() => ReadonlyMap<string, string>),
): string | undefined {
  const latest = candidate(latestLinkFor(outputPath, testId));
  const failed = candidate(errorLinkFor(outputPath, testId));
  if (latest && failed) return failed.at > latest.at ? failed.dir : latest.dir;
  if (latest || failed) return (latest ?? failed)?.dir;
  const all = typeof runDirs === 'function' ? runDirs() : runDirs;
  return (all ?? newestRunDirs(outputPath, testId)).get(testId);
}

/**
 * Each test's newest run dir under `slurm_logs/runs/` (its own or its `_ERROR` one, by mtime), from one
 * listing of every run: a report of the whole output dir asks for all its tests, and a year of runs
 * times hundreds of tests would otherwise be a stat per run per test. With `only`, that test alone.
 */
export function newestRunDirs(outputPath: string, only?: string): Map<string, string> {
  const runs = path.join(logsRoot(outputPath), RUNS_DIR);
  const best = new Map<string, { dir: string; at: number }>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(runs);
  } catch {
    return new Map();
  }
  const consider = (testId: string, dir: string) => {
    const st = lstat(dir);
    const was = best.get(testId);
    if (st?.isDirectory() && (!was || st.mtimeMs > was.at)) best.set(testId, { dir, at: st.mtimeMs });
  };
  for (const run of entries) {
    if (only !== undefined) {
      for (const name of [only, `${only}${ERROR_SUFFIX}`]) consider(only, path.join(runs, run, name));
      continue;
    }
    let names: string[];
    try {
      names = fs.readdirSync(path.join(runs, run));
    } catch {
      continue;
    }
    // The test's own dir before its _ERROR twin, as for one test; a name ending in _ERROR may also be
    // a test id of its own.
    for (const name of names.sort()) {
      consider(name, path.join(runs, run, name));
      if (name.endsWith(ERROR_SUFFIX))
        consider(name.slice(0, -ERROR_SUFFIX.length), path.join(runs, run, name));
    }
  }
  return new Map([...best].map(([test, { dir }]) => [test, dir]));
}
