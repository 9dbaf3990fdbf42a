// The job entry (`<bundle> job`): what disaggr_torch.slurm does on a real cluster, against the
// simulated stack. Reads the config from the job dir, starts the stack, waits for health (wait-server
// log), runs the benchmark (bench log) then the accuracy eval (one log per task), writes the done marker
// on success, and always stops every process it started. File names: src/jobdir/files.ts.
import { setMaxListeners } from 'node:events';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { DisaggConfig } from '../types.js';
import { runEval } from './evaluator.js';
import { getStatus, isRecord } from './http-util.js';
import { hashString } from './rng.js';
import { resolveSettings, type SimSettings } from './settings.js';
import { startInProcessStack, startProcessStack, type Stack } from './stack.js';
import { runVirtualBenchmark } from './virtual-bench.js';
import { BENCH_LOG, CONFIG_FILE, doneMarkerFile, SIM_STACK_FILE, WAIT_SERVER_LOG } from '../jobdir/files.js';
import { sleep } from './sleep.js';

export interface JobOptions {
  jobDir: string;
  jobId: string;
  /** The bundle (or main.ts under tsx) the stack's children run. */
  selfScript: string;
  nodeBin?: string;
  /** Run the servers inside this process (tests); faults that kill a process are then simulated. */
  inProcess?: boolean;
  /** Console output (the job's stdout file under sbatch). */
  print?: (line: string) => void;
  /** Abort from outside (tests); signals are handled by `installSignalHandlers`. */
  signal?: AbortSignal;
}

const HEALTH_TIMEOUT_MS = 120_000;
const HEALTH_POLL_MS = 200;
/** benchmark_serving's aiohttp timeout is 6 h; in simulated time, with a floor of one real minute. */
const REQUEST_TIMEOUT_SIM_MS = 6 * 3600 * 1000;

export function loadConfig(jobDir: string): DisaggConfig {
  const v: unknown = parse(readFileSync(join(jobDir, CONFIG_FILE), 'utf8'));
  if (!isRecord(v)) throw new Error(`${CONFIG_FILE} in ${jobDir} is not a YAML mapping`);
  return v as DisaggConfig;
}

async function waitHealthy(url: string, jobDir: string, signal: AbortSignal): Promise<void> {
  const log = join(jobDir, WAIT_SERVER_LOG);
  const out = (s: string): void => appendFileSync(log, `${s}\n`);
  out(`Waiting for server ${url}/health ...`);
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (let attempt = 1; Date.now() < deadline && !signal.aborted; attempt++) {
    try {
      if ((await getStatus(`${url}/health`, 2_000)) === 200) {
        out(`Server ${url} is ready (attempt ${attempt})`);
        return;
      }
    } catch {
      // not up yet
    }
    if (attempt % 25 === 0) out(`Still waiting for server ${url} (attempt ${attempt})`);
    await sleep(HEALTH_POLL_MS, signal);
  }
  out(
    signal.aborted
      ? 'Aborted while waiting for the server'
      : `Server ${url} not ready after ${HEALTH_TIMEOUT_MS / 1000} s`,
  );
  throw new Error(signal.aborted ? 'aborted' : `server not ready after ${HEALTH_TIMEOUT_MS / 1000} s`);
}

/** The exception line of the last Python-style traceback in a worker log (else its last `[E]` line). */
export function lastErrorLine(file: string): string {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return '';
  }
  let tb = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if ((lines[i] as string).includes('Traceback (most recent call last)')) {
      tb = i;
      break;
    }
  }
  if (tb >= 0) {
    for (let i = tb + 1; i < lines.length; i++) {
      const l = lines[i] as string;
      if (l !== '' && !/^\s/.test(l)) return l;
    }
  }
  return lines.filter((l) => l.includes('[E]')).pop() ?? '';
}

/** Runs the whole job; resolves with the exit code. Never leaves a stack member running. */
export async function runJob(o: JobOptions): Promise<number> {
  const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const ac = new AbortController();
  const signal = ac.signal;
  // Every in-flight request listens on this signal; thousands are legitimate, not a leak.
  setMaxListeners(1_000_000, signal);
  o.signal?.addEventListener('abort', () => ac.abort(o.signal?.reason), { once: true });
  let failure: string | undefined;
  let stack: Stack | undefined;
  print(`disagg-sim: job ${o.jobId} in ${o.jobDir} (host ${hostname()})`);

  try {
    const settings: SimSettings = resolveSettings(loadConfig(o.jobDir));
    print(
      `disagg-sim: ${settings.numCtx} ctx + ${settings.numGen} gen workers, time_scale ${settings.timeScale}, ` +
        `noise ${settings.noise}, ` +
        `concurrency ${settings.bench.concurrencies.join(' ')}`,
    );
    stack = o.inProcess
      ? await startInProcessStack(settings, o.jobDir)
      : await startProcessStack({
          jobDir: o.jobDir,
          configPath: join(o.jobDir, CONFIG_FILE),
          selfScript: o.selfScript,
          settings,
          nodeBin: o.nodeBin,
        });
    writeFileSync(
      join(o.jobDir, SIM_STACK_FILE),
      JSON.stringify({ jobId: o.jobId, routerUrl: stack.routerUrl, members: stack.members }, null, 2),
    );
    stack.onUnexpectedExit((m, code, sig) => {
      const cause = lastErrorLine(m.logFile);
      failure = `${m.name} exited unexpectedly (code ${code ?? 'null'}, signal ${sig ?? 'none'})${cause ? `: ${cause}` : ''}; see ${m.logFile}`;
      ac.abort(new Error(failure));
    });
    for (const m of stack.members) print(`disagg-sim: ${m.name} pid ${m.pid} on 127.0.0.1:${m.port}`);

    await waitHealthy(stack.routerUrl, o.jobDir, signal);
    const timeoutMs = Math.max(60_000, REQUEST_TIMEOUT_SIM_MS * settings.timeScale);
    const bench = await runVirtualBenchmark({
      settings,
      url: stack.routerUrl,
      jobDir: o.jobDir,
      // Each job (= each run) draws its own noise; with noise 0 the seed changes nothing.
      noiseSeed: hashString(o.jobId),
      timeoutMs,
      signal,
    });
    // Failed requests are often the symptom of a dead worker whose exit event is still on its way: give it
    // a moment so the job reports the cause (the traceback), not just the symptom.
    if (bench.failed > 0) await sleep(500, signal);
    if (signal.aborted) throw new Error(failure ?? 'aborted');
    if (bench.failed > 0) {
      failure = `benchmark had ${bench.failed} failed requests (see ${BENCH_LOG})`;
      print(`Error: ${failure}`);
    }
    const exitCode = settings.faults.exitCode;
    if (exitCode !== undefined && exitCode !== 0) {
      print(
        `Error: simulated failure after the benchmark, exit code ${exitCode} (simulator.faults.exit_code)`,
      );
      return exitCode;
    }
    if (settings.accuracyEnabled) {
      for (const task of settings.tasks) {
        const r = await runEval(
          {
            url: stack.routerUrl,
            modelPath: settings.modelPath,
            task,
            numQuestions: settings.numQuestions,
            seed: settings.seed,
            timeoutMs,
            signal,
          },
          o.jobDir,
        );
        print(
          `disagg-sim: ${r.task} exact_match strict-match ${r.strict.value.toFixed(4)}, ` +
            `flexible-extract ${r.flexible.value.toFixed(4)} (n=${r.n})`,
        );
        if (r.failedRequests > 0) failure ??= `${r.failedRequests} accuracy requests failed`;
      }
    }
    if (failure) return 1;
    writeFileSync(
      join(o.jobDir, doneMarkerFile(o.jobId)),
      `${process.env.SLURM_JOB_NODELIST ?? hostname()}\n`,
    );
    print(`Job completed successfully, total runtime: ${Math.round((Date.now() - t0) / 1000)} seconds`);
    return 0;
  } catch (e) {
    const msg = failure ?? (e instanceof Error ? e.message : String(e));
    print(`Error: ${msg}`);
    return signal.aborted && !failure ? 143 : 1;
  } finally {
    await stack?.stop();
  }
}

/**
 * SIGTERM/SIGINT abort the job; the caller exits with 128+signo after runJob's cleanup. Returns the
 * controller whose signal to pass to runJob, and a getter for the received signal.
 */
export function installSignalHandlers(): { signal: AbortSignal; received: () => NodeJS.Signals | undefined } {
  const ac = new AbortController();
  let received: NodeJS.Signals | undefined;
  const on = (sig: NodeJS.Signals): void => {
    if (received) return;
    received = sig;
    process.stdout.write(`disagg-sim: received ${sig}, stopping the stack\n`);
    ac.abort(new Error(sig));
  };
  process.on('SIGTERM', () => on('SIGTERM'));
  process.on('SIGINT', () => on('SIGINT'));
  return { signal: ac.signal, received: () => received };
}
