import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SIM_BUNDLE } from '../jobdir/files.js';
import { packageRoot } from '../util/package-root.js';
import { UsageError, type CliCommand } from './io.js';

export const usage =
  `usage: disagg sim <command> [options]   runs the simulator bundle (dist/sim/${SIM_BUNDLE})\n` +
  '  serve --config FILE [--dir DIR] [--port N]   start the simulated disaggregated stack: an OpenAI\n' +
  '        server on 127.0.0.1:N (/v1/completions, /v1/chat/completions, /v1/models, /health, …);\n' +
  '        logs in DIR (default .); Ctrl-C stops it\n' +
  '  bench --url URL --config FILE [--dir DIR]    benchmark a running server\n' +
  '  eval --url URL --config FILE [--dir DIR]     gsm8k accuracy eval against a server\n' +
  '  gsm8k [--n N] [--seed S]                     print the generated gsm8k-style questions';

/** The bundle that ships in the package (built by scripts/build-sim.mjs). */
export function simBundle(): string {
  return path.join(packageRoot(), 'dist', 'sim', SIM_BUNDLE);
}

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `disagg sim …`: a thin passthrough to the simulator bundle, which is a separate program (it runs on
 * cluster nodes without our node_modules), so it is spawned rather than imported.
 */
export const run: CliCommand = async (argv, io) => {
  if (argv.length === 0) throw new UsageError(usage);
  const bundle = simBundle();
  if (!fs.existsSync(bundle))
    throw new Error(`the simulator bundle ${bundle} is missing; run \`npm run build\``);
  const child = spawn(process.execPath, [bundle, ...argv], { stdio: 'inherit', cwd: io.cwd, env: io.env });
  // Ctrl-C reaches the simulator with the whole process group; a signal sent to this process alone is
  // passed on. Either way this process waits for the simulator to stop its stack and exit.
  const handlers = FORWARDED.map((sig) => {
    const h = (): void => {
      child.kill(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
      });
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
};
