// Start the stress suite (vitest.config.ts) as a child process on a fixture tree, watch its ledger, and
// read its JSON report.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LedgerData } from '../../../src/broker/ledger.js';
import { repoRoot } from '../../fixtures/paths.js';
import { readWithArchive } from '../../unit/broker/ledger-files.js';

export const VITEST = path.join(repoRoot, 'node_modules/vitest/vitest.mjs');

export interface SuiteRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `vitest run` arguments for the default reporter plus a JSON report written to `json`. */
export function jsonReportArgs(json: string): string[] {
  return ['--reporter=default', '--reporter=json', `--outputFile.json=${json}`];
}

/** `extraArgs`: after `vitest run` (e.g. `jsonReportArgs(file)`). */
export function startSuite(
  configDir: string,
  outputPath: string,
  env: Record<string, string> = {},
  extraArgs: string[] = [],
): SuiteRun {
  let output = '';
  const child = spawn(process.execPath, [VITEST, 'run', ...extraArgs], {
    cwd: repoRoot,
    env: { ...process.env, DISAGG_CONFIG_DIR: configDir, OUTPUT_PATH: outputPath, GPU_TYPE: 'GB200', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** `jobs.json` with every job, live or moved to its run's archive once finished and judged. */
export function readLedger(outputPath: string): LedgerData | undefined {
  try {
    return readWithArchive(outputPath);
  } catch {
    return undefined;
  }
}

/** Wait (bounded) until the ledger satisfies `ok`; fails with the run's output if it never does. */
export async function waitForLedger(
  run: SuiteRun,
  outputPath: string,
  ok: (data: LedgerData) => boolean,
  timeoutMs: number,
): Promise<LedgerData> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const data = readLedger(outputPath);
    if (data && ok(data)) return data;
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`ledger condition not met within ${timeoutMs} ms; run output:\n${run.output()}`);
}

/** One test's entry in Vitest's JSON report (the fields these tests read). */
export interface JsonAssertion {
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
  failureMessages: string[];
  duration?: number;
  meta?: { disagg?: { logDir?: string } };
}
export interface JsonReport {
  testResults: Array<{ assertionResults: JsonAssertion[] }>;
}

/** The JSON report a run wrote; fails with the run's exit code and output when it wrote none. */
export function readJsonReport(json: string, exit: number | null, output: string): JsonReport {
  if (!fs.existsSync(json)) throw new Error(`vitest wrote no JSON report (exit ${exit}):\n${output}`);
  return JSON.parse(fs.readFileSync(json, 'utf8')) as JsonReport;
}

/** Every test of the report, in its order. */
export function assertionsOf(report: JsonReport): JsonAssertion[] {
  return report.testResults.flatMap((f) => f.assertionResults);
}

/** The test named `title`; fails naming the run's output when the report has none. */
export function resultOf(report: JsonReport, title: string, output: string): JsonAssertion {
  const test = assertionsOf(report).find((a) => a.title === title);
  if (!test) throw new Error(`no result for ${title}:\n${output}`);
  return test;
}

export interface FinishedSuite {
  exit: number | null;
  stdout: string;
  stderr: string;
  /** stdout, then stderr. */
  output: string;
  report: JsonReport;
}

/**
 * One whole `vitest run` of the stress suite on `configDir` → `outputPath` (GPU_TYPE GB200, `env` on top),
 * to its end, with the default reporter and a JSON report at `json` (removed first, so a stale one is
 * never read). `timeoutMs` bounds the child only so a hung run fails the test instead of stalling it.
 */
export function runSuite(
  configDir: string,
  outputPath: string,
  opts: { json: string; timeoutMs: number; env?: Record<string, string> },
): FinishedSuite {
  fs.rmSync(opts.json, { force: true });
  const r = spawnSync(process.execPath, [VITEST, 'run', ...jsonReportArgs(opts.json)], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DISAGG_CONFIG_DIR: configDir,
      OUTPUT_PATH: outputPath,
      GPU_TYPE: 'GB200',
      ...opts.env,
    },
    encoding: 'utf8',
    timeout: opts.timeoutMs,
  });
  const output = r.stdout + r.stderr;
  const report = readJsonReport(opts.json, r.status, output);
  return { exit: r.status, stdout: r.stdout, stderr: r.stderr, output, report };
}

/** Reporter output without colour codes. */
export function plain(text: string): string {
  return text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
}
