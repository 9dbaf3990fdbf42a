// CLI of the simulator bundle (dist/sim/). `job` is what the job script runs; `worker` and
// `router` are the stack's child processes; the rest are for people poking at the simulator by hand.
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import type { DisaggConfig } from '../types.js';
import { runBenchmark } from './bench-client.js';
import { createClock } from './engine.js';
import { runEval } from './evaluator.js';
import { generateGsm8k } from './gsm8k-data.js';
import { isRecord } from './http-util.js';
import { installSignalHandlers, runJob } from './job.js';
import { createLogger } from './logger.js';
import { startRouter } from './router.js';
import { resolveSettings, type SimSettings } from './settings.js';
import { startProcessStack } from './stack.js';
import { startWorker, type RunningServer } from './worker.js';
import { ACCURACY_LOG_GLOB, BENCH_LOG, CONFIG_FILE } from '../jobdir/files.js';

const USAGE = `disagg-sim — simulated disaggregated LLM-serving stack (vitest-disagg)

Usage:
  disagg-sim job --job-dir DIR [--job-id ID]      run a whole job (${CONFIG_FILE} in DIR; logs into DIR)
  disagg-sim serve --config FILE [--dir DIR] [--port N]
                                                  start the stack and keep it running (Ctrl-C stops it);
                                                  the router (the OpenAI endpoint) listens on 127.0.0.1:N
                                                  (default: a free port), logs go to DIR (default .)
  disagg-sim bench --url URL --config FILE [--dir DIR]   benchmark a running server (${BENCH_LOG})
  disagg-sim eval --url URL --config FILE [--dir DIR]    accuracy eval against a server (${ACCURACY_LOG_GLOB})
  disagg-sim gsm8k [--n N] [--seed S]             print the generated gsm8k-style questions (JSONL)
  disagg-sim worker --role ctx|gen --index I --config FILE   (internal: one worker process)
  disagg-sim router --config FILE --ctx-urls U,.. --gen-urls U,.. [--port N]   (internal: the router process)

Job id: --job-id, else SLURM_JOB_ID, else local-<pid>.`;

function readConfig(file: string): DisaggConfig {
  const v: unknown = parse(readFileSync(file, 'utf8'));
  if (!isRecord(v)) throw new Error(`${file} is not a YAML mapping`);
  return v as DisaggConfig;
}

function selfScript(): string {
  return fileURLToPath(import.meta.url);
}

/** Child-process side of a stack member: serve until the parent says stop or goes away. */
async function runMember(
  start: (s: SimSettings) => Promise<RunningServer>,
  settings: SimSettings,
): Promise<void> {
  const server = await start(settings);
  let closing = false;
  const shutdown = (code: number): void => {
    if (closing) return;
    closing = true;
    // Bounded: a stuck close must not keep the process alive.
    setTimeout(() => process.exit(code), 2_000).unref();
    void server.close().finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  // The IPC channel closes when the job process dies, even by SIGKILL: never outlive it.
  process.on('disconnect', () => shutdown(0));
  process.send?.({ type: 'ready', port: server.port });
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      'job-dir': { type: 'string' },
      'job-id': { type: 'string' },
      config: { type: 'string' },
      dir: { type: 'string' },
      url: { type: 'string' },
      role: { type: 'string' },
      index: { type: 'string' },
      'ctx-urls': { type: 'string' },
      'gen-urls': { type: 'string' },
      n: { type: 'string' },
      seed: { type: 'string' },
      port: { type: 'string' },
    },
    allowPositionals: false,
    strict: true,
  });
  /** --port: 0 (the default) lets the OS pick a free port. */
  const port = (): number => {
    const p = Number(values.port ?? '0');
    if (!Number.isInteger(p) || p < 0 || p > 65535)
      throw new Error(`--port ${values.port ?? ''}: not a TCP port`);
    return p;
  };
  const settingsFrom = (): SimSettings => {
    if (!values.config) throw new Error('--config FILE is required');
    return resolveSettings(readConfig(values.config));
  };
  switch (cmd) {
    case 'job': {
      if (!values['job-dir']) throw new Error('--job-dir DIR is required');
      const sig = installSignalHandlers();
      const code = await runJob({
        jobDir: resolve(values['job-dir']),
        jobId: values['job-id'] ?? process.env.SLURM_JOB_ID ?? `local-${process.pid}`,
        selfScript: selfScript(),
        signal: sig.signal,
      });
      const received = sig.received();
      return received === 'SIGTERM' ? 143 : received === 'SIGINT' ? 130 : code;
    }
    case 'worker': {
      const role = values.role === 'ctx' ? 'ctx' : values.role === 'gen' ? 'gen' : undefined;
      if (!role) throw new Error('--role ctx|gen is required');
      const index = Number(values.index ?? '0');
      await runMember(
        (settings) =>
          startWorker({
            role,
            index,
            settings,
            clock: createClock(settings.timeScale),
            logger: createLogger(),
            onCrash: () => process.exit(1),
          }),
        settingsFrom(),
      );
      return -1;
    }
    case 'router': {
      const split = (s: string | undefined): string[] => (s ?? '').split(',').filter((x) => x !== '');
      await runMember(
        (settings) =>
          startRouter({
            settings,
            clock: createClock(settings.timeScale),
            logger: createLogger(),
            ctxUrls: split(values['ctx-urls']),
            genUrls: split(values['gen-urls']),
            port: port(),
          }),
        settingsFrom(),
      );
      return -1;
    }
    case 'serve': {
      const settings = settingsFrom();
      const dir = resolve(values.dir ?? '.');
      const stack = await startProcessStack({
        jobDir: dir,
        configPath: resolve(values.config ?? ''),
        selfScript: selfScript(),
        settings,
        routerPort: port(),
      });
      const u = stack.routerUrl;
      process.stdout.write(
        `disagg-sim: serving model ${settings.modelPath} (context ${settings.contextLength} tokens)\n` +
          `  ${u}/v1/completions\n  ${u}/v1/chat/completions\n` +
          `  also ${u}/v1/models, /health, /health_generate, /version, /metrics\n` +
          `disagg-sim: logs in ${dir}; Ctrl-C stops\n`,
      );
      await new Promise<void>((done) => {
        // \`on\`, not \`once\`: a second Ctrl-C (also forwarded by \`disagg sim\`) must not kill us mid-stop.
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
        stack.onUnexpectedExit((m) => {
          process.stdout.write(`disagg-sim: ${m.name} exited\n`);
          done();
        });
      });
      await stack.stop();
      return 0;
    }
    case 'bench': {
      if (!values.url) throw new Error('--url URL is required');
      const s = settingsFrom();
      const r = await runBenchmark({
        url: values.url.replace(/\/+$/, ''),
        model: s.modelPath,
        timeScale: s.timeScale,
        timeoutMs: 600_000,
        bench: s.bench,
        seed: s.seed,
        jobDir: resolve(values.dir ?? '.'),
      });
      return r.failed > 0 ? 1 : 0;
    }
    case 'eval': {
      if (!values.url) throw new Error('--url URL is required');
      const s = settingsFrom();
      for (const task of s.tasks.length > 0
        ? s.tasks
        : resolveSettings({ accuracy: { tasks: 'gsm8k' } }).tasks) {
        const r = await runEval(
          {
            url: values.url.replace(/\/+$/, ''),
            modelPath: s.modelPath,
            task,
            numQuestions: s.numQuestions,
            seed: s.seed,
            timeoutMs: 600_000,
          },
          resolve(values.dir ?? '.'),
        );
        process.stdout.write(
          `${r.task}: strict-match ${r.strict.value.toFixed(4)} flexible-extract ${r.flexible.value.toFixed(4)}\n`,
        );
      }
      return 0;
    }
    case 'gsm8k': {
      for (const d of generateGsm8k(Number(values.n ?? '10'), Number(values.seed ?? '1234'))) {
        process.stdout.write(`${JSON.stringify(d)}\n`);
      }
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command: ${cmd}\n${USAGE}\n`);
      return 2;
  }
}

/** True when this module is the process entry (bundle or `tsx main.ts`), not when imported by tests. */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    // realpath: the bundle may be started through a symlink (e.g. /tmp → /private/tmp on macOS).
    return realpathSync(resolve(entry)) === realpathSync(selfScript());
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // -1: a long-running member; it exits from its own signal handlers.
      if (code >= 0) process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`disagg-sim: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
