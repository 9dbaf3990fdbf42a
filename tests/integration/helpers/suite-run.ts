// Start the stress suite (vitest.config.ts) as a child process on a fixture tree, and watch its ledger.
import { spawn, type ChildProcess } from 'node:child_process';
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

export function startSuite(
  configDir: string,
  outputPath: string,
  env: Record<string, string> = {},
): SuiteRun {
  let output = '';
  const child = spawn(process.execPath, [VITEST, 'run'], {
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
