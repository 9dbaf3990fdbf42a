// Shared by the suite benchmarks (makespan-vitest.ts, faults-100.ts): a lab to run on, a PATH wrapper
// that logs every SLURM command the plugin runs, `npx vitest run` of a config dir, and SLURM's own view
// of the jobs (start/end times, states) read after the run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VITEST = path.join(repo, 'node_modules/vitest/vitest.mjs');

export interface LabHandle {
  env: Record<string, string>;
  stop: () => void;
}

/** `export K=V` lines of `local-cluster.sh start` → an object. */
function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = (m[2] as string).replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/**
 * The lab the benchmark runs on: BENCH_LAB_ENV (the env file of a running lab, as `local-cluster.sh
 * start` prints it) if set, else a lab of its own started with `settings` (and stopped by `stop`).
 */
export function openLab(settings: Record<string, string>): LabHandle {
  const file = process.env.BENCH_LAB_ENV;
  if (file) return { env: parseExports(fs.readFileSync(file, 'utf8')), stop: () => undefined };
  const script = path.join(repo, 'scripts/local-cluster.sh');
  const labEnv = { ...process.env, ...settings };
  const out = execFileSync('bash', [script, 'start'], {
    env: labEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  });
  return {
    env: parseExports(out),
    stop: () => {
      execFileSync('bash', [script, 'stop'], { env: labEnv, stdio: 'inherit', timeout: 120_000 });
    },
  };
}

export const SLURM_COMMANDS = ['sbatch', 'squeue', 'sacct', 'scontrol', 'scancel'] as const;
export type SlurmCommand = (typeof SLURM_COMMANDS)[number];

/**
 * A directory of wrappers, one per SLURM command, that append `<epoch ms> <command>` to `log` and run
 * the real binary. Put it first in PATH of the run (the slurm executor runs its commands through bash).
 */
export function slurmCommandLogger(dir: string, log: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const cmd of SLURM_COMMANDS) {
    const real = spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) throw new Error(`${cmd} is not on PATH: is SLURM installed?`);
    const file = path.join(dir, cmd);
    fs.writeFileSync(file, `#!/bin/sh\necho "$(date +%s%3N) ${cmd}" >> '${log}'\nexec '${real}' "$@"\n`);
    fs.chmodSync(file, 0o755);
  }
  return dir;
}

export function readCommandLog(log: string): Array<{ at: number; cmd: SlurmCommand }> {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length === 2)
    .map(([at, cmd]) => ({ at: Number(at), cmd: cmd as SlurmCommand }));
}

export interface VitestRun {
  exitCode: number | null;
  startedAt: number;
  endedAt: number;
  output: string;
  /** Resolves when the run exits (the same values as above, filled in then). */
  done: Promise<void>;
  child: ReturnType<typeof spawn>;
}

/** `vitest run` (the stress suite config with the plugin) on `configDir`; output kept in memory. */
export function startVitest(env: Record<string, string>, jsonReport: string, timeoutMs: number): VitestRun {
  const child = spawn(
    process.execPath,
    [VITEST, 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${jsonReport}`],
    { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run: VitestRun = {
    exitCode: null,
    startedAt: Date.now(),
    endedAt: 0,
    output: '',
    child,
    done: Promise.resolve(),
  };
  child.stdout.on('data', (d: Buffer) => (run.output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (run.output += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  run.done = new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      run.exitCode = code;
      run.endedAt = Date.now();
      resolve();
    }),
  );
  return run;
}

export interface SlurmJob {
  jobId: string;
  name: string;
  state: string;
  /** epoch ms (SLURM keeps whole seconds), undefined when the job never started / has not ended */
  start?: number;
  end?: number;
  reason: string;
}

function slurmTime(s: string | undefined): number | undefined {
  if (!s || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(s)) return undefined;
  return new Date(s).getTime(); // SLURM prints local time without a zone, as Date reads it
}

/** Every job of the lab whose name starts with `prefix`, any state (MinJobAge keeps finished ones). */
export function slurmJobs(env: Record<string, string>, prefix: string): SlurmJob[] {
  const out = execFileSync('squeue', ['-h', '-t', 'all', '-o', '%A|%j|%T|%S|%e|%r'], {
    env: { ...process.env, SLURM_CONF: env.SLURM_CONF },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return out
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter((f) => f.length === 6 && (f[1] as string).startsWith(prefix))
    .map(([jobId, name, state, start, end, reason]) => ({
      jobId: jobId as string,
      name: name as string,
      state: state as string,
      start: slurmTime(start),
      end: slurmTime(end),
      reason: reason as string,
    }));
}

export interface JsonAssertion {
  title: string;
  status: string;
  failureMessages: string[];
}

export function readJsonReport(file: string): JsonAssertion[] {
  if (!fs.existsSync(file)) return [];
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    testResults: Array<{ assertionResults: JsonAssertion[] }>;
  };
  return r.testResults.flatMap((f) => f.assertionResults);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
