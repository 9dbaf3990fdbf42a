// Load generator modelled on run_benchmark.sh + benchmark_serving: for each concurrency it sends
// concurrency × multi_round requests with at most `concurrency` in flight, measures TTFT / TPOT / ITL / E2EL
// from the stream, and writes the result block to the bench log and the per-concurrency result file (src/jobdir/files.ts).
// All times are measured on the real clock and reported in SIMULATED ms (real / time_scale), so the log
// reads like one from the deployment being simulated.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isRecord, parseJsonObject, postJson, readResponse } from './http-util.js';
import { formatBenchBlock, type BenchMetrics } from './log-writers.js';
import { createRng, randInt } from './rng.js';
import type { BenchSettings } from './settings.js';
import { countTokens, fillerText } from './sim-model.js';
import { mean, summarize } from './stats.js';
import { BENCH_LOG, concurrencyDir, RESULT_JSON } from '../jobdir/files.js';

export interface RequestResult {
  success: boolean;
  error: string;
  promptLen: number;
  outputLen: number;
  /** Simulated ms. */
  ttft: number;
  latency: number;
  itl: number[];
  avgDecoded: number;
}

export interface ClientOptions {
  url: string;
  model: string;
  timeScale: number;
  agent: http.Agent;
  /** Real ms before a request is abandoned (benchmark_serving's aiohttp timeout is 6 h). */
  timeoutMs: number;
  signal?: AbortSignal;
}

interface ChoiceChunk {
  text: string;
  avgDecoded: number;
}

function firstChoice(obj: Record<string, unknown>): ChoiceChunk | undefined {
  const ch = Array.isArray(obj.choices) ? (obj.choices[0] as unknown) : undefined;
  if (!isRecord(ch)) return undefined;
  return {
    text: typeof ch.text === 'string' ? ch.text : '',
    avgDecoded: typeof ch.avg_decoded_tokens_per_iter === 'number' ? ch.avg_decoded_tokens_per_iter : 0,
  };
}

function usageTokens(obj: Record<string, unknown>): number | undefined {
  return isRecord(obj.usage) && typeof obj.usage.completion_tokens === 'number'
    ? obj.usage.completion_tokens
    : undefined;
}

/** One completion request; never throws (failures are results, as in benchmark_serving). */
export async function sendRequest(
  opts: ClientOptions,
  prompt: string,
  promptLen: number,
  maxTokens: number,
  streaming: boolean,
): Promise<RequestResult> {
  const r: RequestResult = {
    success: false,
    error: '',
    promptLen,
    outputLen: 0,
    ttft: 0,
    latency: 0,
    itl: [],
    avgDecoded: 0,
  };
  const toSim = (realMs: number): number => realMs / opts.timeScale;
  const start = performance.now();
  try {
    const res = await postJson(
      `${opts.url}/v1/completions`,
      {
        model: opts.model,
        prompt,
        max_tokens: maxTokens,
        stream: streaming,
        ignore_eos: true,
        ...(streaming ? { stream_options: { include_usage: true } } : {}),
      },
      { agent: opts.agent, timeoutMs: opts.timeoutMs, signal: opts.signal },
    );
    if (res.statusCode !== 200) {
      const text = await readResponse(res);
      r.error = `HTTP ${res.statusCode ?? 0}: ${text.slice(0, 200)}`;
      return r;
    }
    if (!streaming) {
      const body = parseJsonObject(await readResponse(res));
      const ch = body ? firstChoice(body) : undefined;
      if (!body || !ch) throw new Error('invalid JSON response');
      r.latency = toSim(performance.now() - start);
      r.ttft = r.latency;
      r.outputLen = usageTokens(body) ?? countTokens(ch.text);
      r.avgDecoded = ch.avgDecoded;
      r.success = true;
      return r;
    }
    let buf = '';
    let last = 0;
    let first = true;
    let counted = 0;
    let usage: number | undefined;
    let done = false;
    res.setEncoding('utf8');
    for await (const piece of res) {
      buf += piece as string;
      let idx: number;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, idx).trim();
        buf = buf.slice(idx + 2);
        if (!event.startsWith('data:')) continue;
        const data = event.slice(5).trim();
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const obj = parseJsonObject(data);
        if (!obj) continue;
        usage = usageTokens(obj) ?? usage;
        const ch = firstChoice(obj);
        if (!ch) continue;
        if (ch.avgDecoded > 0) r.avgDecoded = ch.avgDecoded;
        if (ch.text === '') continue;
        const now = performance.now();
        const n = countTokens(ch.text);
        if (first) {
          first = false;
          r.ttft = toSim(now - start);
          // A first chunk carrying several tokens: the extra ones arrived together with the first.
          for (let i = 1; i < n; i++) r.itl.push(0);
        } else {
          // Inter-token latency per token: a chunk of n tokens after a gap g counts as n gaps of g/n, which
          // keeps ITL independent of how the server coalesces tokens into SSE events.
          const gap = toSim(now - last) / Math.max(1, n);
          for (let i = 0; i < n; i++) r.itl.push(gap);
        }
        counted += n;
        last = now;
      }
    }
    if (!done) throw new Error('stream ended without [DONE]');
    r.latency = toSim(performance.now() - start);
    r.outputLen = usage ?? counted;
    r.success = true;
  } catch (e) {
    r.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  return r;
}

/** Every ITL value of the run in one typed array (sized first: millions of values at high concurrency). */
function allItls(ok: readonly RequestResult[]): Float64Array {
  let n = 0;
  for (const r of ok) n += r.itl.length;
  const out = new Float64Array(n);
  let i = 0;
  for (const r of ok) for (const x of r.itl) out[i++] = x;
  return out;
}

/** benchmark_serving's calculate_metrics (ms in, ms out; duration in simulated seconds). */
export function computeMetrics(results: readonly RequestResult[], durationS: number): BenchMetrics {
  const ok = results.filter((r) => r.success);
  const totalInput = ok.reduce((s, r) => s + r.promptLen, 0);
  const totalOutput = ok.reduce((s, r) => s + r.outputLen, 0);
  const tpots = ok.filter((r) => r.outputLen > 1).map((r) => (r.latency - r.ttft) / (r.outputLen - 1));
  const d = durationS > 0 ? durationS : 1e-9;
  const decoded = ok.map((r) => r.avgDecoded).filter((x) => x > 0);
  const m: BenchMetrics = {
    totalRequests: results.length,
    completed: ok.length,
    failed: results.length - ok.length,
    durationS,
    totalInput,
    totalOutput,
    requestThroughput: ok.length / d,
    outputThroughput: totalOutput / d,
    totalTokenThroughput: (totalInput + totalOutput) / d,
    userThroughput: mean(ok.filter((r) => r.latency > 0).map((r) => r.outputLen / (r.latency / 1000))),
    ttft: summarize(ok.map((r) => r.ttft)),
    tpot: summarize(tpots),
    itl: summarize(allItls(ok)),
    e2el: summarize(ok.map((r) => r.latency)),
  };
  // TRT-LLM prints the speculative-decoding section only when MTP actually decoded >1 token per iteration.
  if (decoded.length > 0 && mean(decoded) > 1.0001) {
    m.avgDecoded = {
      ...summarize(decoded),
      min: decoded.reduce((a, b) => Math.min(a, b)),
      max: decoded.reduce((a, b) => Math.max(a, b)),
    };
  }
  return m;
}

/** Prompt of exactly `n` simulated tokens. */
export function benchPrompt(n: number): string {
  return fillerText(n).slice(1);
}

export interface LevelResult {
  concurrency: number;
  numPrompts: number;
  results: RequestResult[];
  metrics: BenchMetrics;
}

/**
 * The prompt and output lengths of one run, as run_benchmark.sh draws them: uniform in
 * [benchmark_ratio·L, L], seeded by `simulator.seed` and the concurrency.
 */
export function levelRequests(
  bench: BenchSettings,
  concurrency: number,
  numPrompts: number,
  seed: number,
): Array<{ inLen: number; outLen: number }> {
  const rng = createRng(seed + concurrency);
  const lo = (l: number): number => Math.max(1, Math.floor(l * bench.ratio));
  return Array.from({ length: numPrompts }, () => ({
    inLen: randInt(rng, lo(bench.inputLength), bench.inputLength),
    outLen: randInt(rng, lo(bench.outputLength), bench.outputLength),
  }));
}

/** One benchmark_serving run over HTTP: `numPrompts` requests, at most `concurrency` in flight. */
export async function runLevel(
  opts: ClientOptions,
  bench: BenchSettings,
  concurrency: number,
  numPrompts: number,
  seed: number,
): Promise<LevelResult> {
  const lens = levelRequests(bench, concurrency, numPrompts, seed);
  const results: RequestResult[] = new Array<RequestResult>(numPrompts);
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < numPrompts && !opts.signal?.aborted) {
      const i = next++;
      const { inLen, outLen } = lens[i] as { inLen: number; outLen: number };
      results[i] = await sendRequest(opts, benchPrompt(inLen), inLen, outLen, bench.streaming);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, numPrompts) }, () => worker()));
  const durationS = (performance.now() - start) / opts.timeScale / 1000;
  const done = results.filter((r): r is RequestResult => r !== undefined);
  return { concurrency, numPrompts, results: done, metrics: computeMetrics(done, durationS) };
}

/** benchmark_serving --save-result JSON (field names as in TRT-LLM/vLLM). */
export function resultJson(level: LevelResult, model: string): Record<string, unknown> {
  const m = level.metrics;
  const ok = level.results;
  const out: Record<string, unknown> = {
    date: new Date().toISOString().replace(/[-:]/g, '').slice(0, 15),
    backend: 'openai',
    model_id: model,
    tokenizer_id: model,
    num_prompts: level.numPrompts,
    request_rate: 'inf',
    burstiness: 1.0,
    max_concurrency: level.concurrency,
    duration: m.durationS,
    completed: m.completed,
    total_input_tokens: m.totalInput,
    total_output_tokens: m.totalOutput,
    request_throughput: m.requestThroughput,
    output_throughput: m.outputThroughput,
    total_token_throughput: m.totalTokenThroughput,
    user_throughput: m.userThroughput,
    input_lens: ok.map((r) => (r.success ? r.promptLen : 0)),
    output_lens: ok.map((r) => (r.success ? r.outputLen : 0)),
    ttfts: ok.map((r) => (r.success ? r.ttft / 1000 : 0)),
    itls: ok.map((r) => r.itl.map((x) => x / 1000)),
    errors: ok.map((r) => r.error),
  };
  for (const key of ['ttft', 'tpot', 'itl', 'e2el'] as const) {
    const s = m[key];
    out[`mean_${key}_ms`] = s.mean;
    out[`median_${key}_ms`] = s.median;
    out[`std_${key}_ms`] = s.std;
    out[`p99_${key}_ms`] = s.p99;
  }
  return out;
}

/** Appends to the job's bench log (src/jobdir/files.ts). */
export function benchLogWriter(jobDir: string): (s: string) => void {
  const log = join(jobDir, BENCH_LOG);
  return (s: string): void => appendFileSync(log, s.endsWith('\n') ? s : `${s}\n`);
}

/** The lines run_benchmark.sh prints before a concurrency's run. */
export function writeLevelStart(out: (s: string) => void, concurrency: number, numPrompts: number): void {
  out(`Benchmarking with concurrency ${concurrency} ... ${numPrompts} prompts`);
  out('Traffic request rate: inf');
  out('Burstiness factor: 1.0 (Poisson process)');
  out(`Maximum request concurrency: ${concurrency}`);
}

/** A finished run: error counts, the result block, its RESULT_JSON in its concurrency dir, the done line. */
export function writeLevelEnd(
  out: (s: string) => void,
  jobDir: string,
  level: LevelResult,
  model: string,
  useNvSa: boolean,
): void {
  const errs = new Map<string, number>();
  for (const r of level.results) {
    if (r.success) continue;
    const type = r.error.split(':')[0] ?? r.error;
    errs.set(type, (errs.get(type) ?? 0) + 1);
  }
  for (const [type, n] of errs) out(`Error type: ${type}, Count: ${n} requests`);
  if (level.metrics.failed > 0) out(`Total failed requests: ${level.metrics.failed}`);
  out(formatBenchBlock(level.metrics));
  const dir = join(jobDir, concurrencyDir(level.concurrency));
  mkdirSync(dir, { recursive: true });
  // Compact, as benchmark_serving's json.dump writes it: per-request arrays hold millions of values.
  writeFileSync(join(dir, RESULT_JSON), JSON.stringify(resultJson(level, model)));
  if (useNvSa) out(`Total failed requests: ${level.metrics.failed}`);
  out(`Benchmark with concurrency ${level.concurrency} done`);
}

export interface BenchRunOptions extends Omit<ClientOptions, 'agent'> {
  bench: BenchSettings;
  seed: number;
  jobDir: string;
}

/**
 * The whole run_benchmark.sh loop over HTTP against a running server (`disagg-sim bench --url`), timed on
 * the real clock. The job itself uses the virtual-time benchmark (virtual-bench.ts).
 */
export async function runBenchmark(o: BenchRunOptions): Promise<{ levels: LevelResult[]; failed: number }> {
  const out = benchLogWriter(o.jobDir);
  const levels: LevelResult[] = [];
  let failed = 0;
  for (const c of o.bench.concurrencies) {
    if (o.signal?.aborted) break;
    const numPrompts = c * o.bench.multiRound;
    writeLevelStart(out, c, numPrompts);
    const agent = new http.Agent({ keepAlive: true, maxSockets: c });
    let level: LevelResult;
    try {
      level = await runLevel({ ...o, agent }, o.bench, c, numPrompts, o.seed);
    } finally {
      agent.destroy();
    }
    if (o.signal?.aborted) break;
    writeLevelEnd(out, o.jobDir, level, o.model, o.bench.useNvSa);
    failed += level.metrics.failed;
    levels.push(level);
  }
  return { levels, failed };
}
