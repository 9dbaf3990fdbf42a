// The job's benchmark: run_benchmark.sh's concurrency sweep with every number from the discrete-event
// simulation (serving-sim.ts), written in benchmark_serving's formats. The job still takes real time:
// each concurrency's virtual duration × time_scale, so live progress, Ctrl-C and makespans behave as on
// a cluster. Meanwhile light probe requests go through the real stack one at a time: a hung router or a
// dead worker stops the job as it would stop the real benchmark. No probe's timing is reported.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  benchLogWriter,
  benchPrompt,
  computeMetrics,
  levelRequests,
  sendRequest,
  writeLevelEnd,
  writeLevelStart,
  type LevelResult,
} from './bench-client.js';
import { simulateLevel, type ServingModel, type SimRequest } from './serving-sim.js';
import type { SimSettings } from './settings.js';
import { sleep } from './sleep.js';

/** Real ms between two probes: enough to notice a hang within a level, cheap on a loaded host. */
const PROBE_INTERVAL_MS = 100;
const PROBE_PROMPT_TOKENS = 8;
const PROBE_OUTPUT_TOKENS = 2;

/** The deployment the simulation models, from the simulator's settings. */
export function servingModel(s: SimSettings): ServingModel {
  return {
    numCtx: s.numCtx,
    numGen: s.numGen,
    ctx: {
      tp: s.ctx.tp,
      maxBatchSize: s.ctx.maxBatchSize,
      maxNumTokens: s.ctx.maxNumTokens,
      attentionDp: s.ctx.attentionDp,
    },
    gen: {
      tp: s.gen.tp,
      maxBatchSize: s.gen.maxBatchSize,
      mtpLayers: s.gen.mtpLayers,
      streamInterval: s.gen.streamInterval,
      attentionDp: s.gen.attentionDp,
    },
    contextLength: s.contextLength,
    slowdown: s.gen.slowdown,
    noise: s.noise,
    faults: { http500Rate: s.faults.http500Rate, hangAfterS: s.faults.hangAfterS },
  };
}

/** A simulated concurrency: its requests carry the model's breakdown too. */
export interface SimLevel extends LevelResult {
  results: SimRequest[];
}

/** One concurrency of the sweep, simulated; `startAtMs`: virtual time of the sweep before it. */
function simulateConcurrency(
  model: ServingModel,
  s: SimSettings,
  c: number,
  noiseSeed: number,
  startAtMs: number,
): { level: SimLevel; durationMs: number } {
  const numPrompts = c * s.bench.multiRound;
  const trace = simulateLevel(model, levelRequests(s.bench, c, numPrompts, s.seed), c, {
    seed: s.seed,
    noiseSeed,
    startAtMs,
  });
  const metrics = computeMetrics(trace.requests, trace.durationMs / 1000);
  return {
    level: { concurrency: c, numPrompts, results: trace.requests, metrics },
    durationMs: trace.durationMs,
  };
}

/** Every level of the sweep in virtual time, without pacing or I/O (benchmarks and tests). */
export function simulateSweep(s: SimSettings, noiseSeed: number): SimLevel[] {
  const model = servingModel(s);
  const levels: SimLevel[] = [];
  let startAtMs = 0;
  for (const c of s.bench.concurrencies) {
    const { level, durationMs } = simulateConcurrency(model, s, c, noiseSeed, startAtMs);
    startAtMs += durationMs;
    levels.push(level);
  }
  return levels;
}

export interface VirtualBenchOptions {
  settings: SimSettings;
  /** The stack's router, for the probes. */
  url: string;
  jobDir: string;
  /** Seed of this run's service-time noise (the job id's hash). */
  noiseSeed: number;
  /** Real ms before a probe is abandoned. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Waits `realMs` while probing the stack, one request at a time; returns once both are over. */
async function paceWithProbes(
  realMs: number,
  probe: () => Promise<unknown>,
  signal?: AbortSignal,
): Promise<void> {
  const end = performance.now() + realMs;
  while (!signal?.aborted) {
    await probe();
    const left = end - performance.now();
    if (left <= 0) return;
    await sleep(Math.min(left, PROBE_INTERVAL_MS), signal);
  }
}

/** The sweep as the job runs it: log lines at the pace of time_scale, numbers from the simulation. */
export async function runVirtualBenchmark(
  o: VirtualBenchOptions,
): Promise<{ levels: LevelResult[]; failed: number }> {
  const s = o.settings;
  const out = benchLogWriter(o.jobDir);
  const model = servingModel(s);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const probe = (): Promise<unknown> =>
    sendRequest(
      {
        url: o.url,
        model: s.modelPath,
        timeScale: s.timeScale,
        agent,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
      },
      benchPrompt(PROBE_PROMPT_TOKENS),
      PROBE_PROMPT_TOKENS,
      PROBE_OUTPUT_TOKENS,
      s.bench.streaming,
    );
  const levels: LevelResult[] = [];
  let failed = 0;
  let startAtMs = 0;
  try {
    for (const c of s.bench.concurrencies) {
      if (o.signal?.aborted) break;
      writeLevelStart(out, c, c * s.bench.multiRound);
      const { level, durationMs } = simulateConcurrency(model, s, c, o.noiseSeed, startAtMs);
      startAtMs += durationMs;
      await paceWithProbes(durationMs * s.timeScale, probe, o.signal);
      if (o.signal?.aborted) break;
      writeLevelEnd(out, o.jobDir, level, s.modelPath, s.bench.useNvSa);
      failed += level.metrics.failed;
      levels.push(level);
    }
  } finally {
    agent.destroy();
  }
  return { levels, failed };
}
