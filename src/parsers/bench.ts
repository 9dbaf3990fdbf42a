// Streaming parser for the bench log (BENCH_LOG of src/jobdir/files.ts: benchmark_serving output wrapped by run_benchmark.sh).
// The log is split at the `Serving Benchmark Result` banner and read one line at a time: one regex
// over the whole file pairs a warm-up block's TTFT with the next block's E2EL (as the original's does),
// and worker logs can be gigabytes, so nothing here keeps more than the current block in memory.
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchBlock, BenchParseResult } from '../types.js';
import { labelToKey } from './bench-labels.js';
import { cleanLine, splitLines } from './lines.js';
import { BENCH_LOG, CONCURRENCY_DIR_RE, RESULT_JSON } from '../jobdir/files.js';

const BANNER = 'Serving Benchmark Result';
const METRIC_LINE = /^\s*(.+?):\s+(\S+)\s*$/;
const ANNOUNCE = /^Benchmarking with concurrency (\d+)(?:\s*\.\.\.\s*(\d+) prompts)?/;
const DONE = /^Benchmark with concurrency (\d+) done/;
const TOTAL_FAILED = /^Total failed requests:\s*(\d+)/;
const MAX_CONCURRENCY = /^Maximum request concurrency:\s*(\d+)/;

interface BlockRecord {
  metrics: Record<string, number>;
  /** Concurrency of the `Benchmarking with concurrency N` line this block ran under. */
  announced: number | null;
  /** Concurrency from the trailing `done` line; set only when that line was seen. */
  done: number | null;
  /** The block ended with its closing `=` rule (not cut off by a crash). */
  closed: boolean;
  warmup: boolean;
}

/**
 * Line-fed state machine. Feed every raw line with `push`, then call `finish`.
 * Exposed (not just the two functions) so `loadBenchResults` can read the `done` lines too.
 */
export class BenchLogParser {
  private readonly records: BlockRecord[] = [];
  private current: BlockRecord | null = null;
  private announced: number | null = null;
  /** The block that ran under the current announcement, once it has started. */
  private announcedBlock: BlockRecord | null = null;
  /** Values printed outside a block before it starts (`Total failed requests`, max concurrency). */
  private pending: Record<string, number> = {};
  private sawShellMarkers = false;
  readonly missing: number[] = [];
  readonly doneConcurrencies: number[] = [];

  push(raw: string): void {
    const line = cleanLine(raw);
    if (this.current !== null) {
      if (this.pushInBlock(line)) return;
    }
    this.pushOutside(line);
  }

  /** Returns false when the line ends the block without being consumed by it. */
  private pushInBlock(line: string): boolean {
    const block = this.current as BlockRecord;
    const first = line.charCodeAt(0);
    if (first === 61 /* = */) {
      if (line.includes(BANNER)) return false;
      // The closing rule is 50 `=`; the `!FAILED REQUESTS!` banners contain other characters.
      if (/^=+\s*$/.test(line)) {
        block.closed = true;
        this.current = null;
      }
      return true;
    }
    if (first === 45 /* - */) return true; // section header like `----Time to First Token----`
    // A shell marker inside a block means the run crashed mid-block (`Benchmark duration` is a metric).
    if (line.startsWith('Benchmark with ') || line.startsWith('Benchmarking with ')) return false;
    if (line.includes(BANNER)) return false;
    const m = METRIC_LINE.exec(line);
    if (m) {
      const value = Number(m[2]);
      // `N/A`, `nan` and friends: the metric is absent, not zero.
      if (Number.isFinite(value)) block.metrics[labelToKey(m[1])] = value;
    }
    return true;
  }

  private pushOutside(line: string): void {
    if (this.current !== null) this.current = null; // block cut off (crash or a new banner)
    if (line.includes(BANNER)) {
      this.openBlock();
      return;
    }
    const c = line.charCodeAt(0);
    if (c === 66 /* B */) {
      const done = DONE.exec(line);
      if (done) return this.onDone(Number(done[1]));
      const ann = ANNOUNCE.exec(line);
      if (ann) return this.onAnnounce(Number(ann[1]));
    } else if (c === 84 /* T */) {
      const failed = TOTAL_FAILED.exec(line);
      if (failed) {
        // run_benchmark_nv_sa.sh prints it after the block (belongs to it); TRT-LLM's
        // calculate_metrics prints it before the block (belongs to the next one).
        const target = this.announcedBlock;
        if (target !== null && target.metrics.failed_requests === undefined) {
          target.metrics.failed_requests = Number(failed[1]);
        } else if (target === null) {
          this.pending.failed_requests = Number(failed[1]);
        }
      }
    } else if (c === 77 /* M */) {
      const max = MAX_CONCURRENCY.exec(line);
      if (max) this.pending.max_concurrency = Number(max[1]);
    } else if (c === 83 /* S */ && line.startsWith('Starting benchmark')) {
      // The UCX warm-up run prints its block before this line; the real loop starts after it.
      for (const r of this.records) if (r.done === null) r.warmup = true;
    }
  }

  private openBlock(): void {
    const block: BlockRecord = {
      metrics: { ...this.pending },
      announced: this.announced,
      done: null,
      closed: false,
      warmup: false,
    };
    this.pending = {};
    this.records.push(block);
    this.current = block;
    if (this.announced !== null) this.announcedBlock = block;
  }

  private onAnnounce(concurrency: number): void {
    this.sawShellMarkers = true;
    if (this.announced !== null && this.announcedBlock === null) this.missing.push(this.announced);
    this.announced = concurrency;
    this.announcedBlock = null;
    this.pending = {};
  }

  private onDone(concurrency: number): void {
    this.sawShellMarkers = true;
    this.doneConcurrencies.push(concurrency);
    // Without an announcement the most recent block is the one that just finished.
    const block = this.announcedBlock ?? (this.announced === null ? this.lastUnbound() : null);
    if (block === null) this.missing.push(concurrency);
    else block.done = concurrency;
    this.announced = null;
    this.announcedBlock = null;
  }

  private lastUnbound(): BlockRecord | null {
    const last = this.records[this.records.length - 1];
    return last !== undefined && last.done === null && last.announced === null ? last : null;
  }

  finish(): BenchParseResult {
    this.current = null;
    if (this.announced !== null && this.announcedBlock === null) this.missing.push(this.announced);
    this.announced = null;
    const blocks = this.records.map((r) => this.toBlock(r));
    return { blocks, missing: [...this.missing] };
  }

  private toBlock(r: BlockRecord): BenchBlock {
    // In a shell-wrapped log a block nobody announced and no `done` line claimed is a warm-up run.
    const orphan = this.sawShellMarkers && r.announced === null && r.done === null;
    const warmup = r.warmup || orphan;
    const concurrency = r.done ?? r.announced ?? r.metrics.max_concurrency ?? null;
    // Without shell markers (a bare benchmark_serving output) the closing rule is all we have.
    const completed = !warmup && (r.done !== null || (!this.sawShellMarkers && r.closed));
    return { concurrency, completed, warmup, metrics: r.metrics };
  }
}

/** Parse a whole benchmark log held in memory (tests, small logs). */
export function parseBenchText(text: string): BenchParseResult {
  const parser = new BenchLogParser();
  for (const line of splitLines(text)) parser.push(line);
  return parser.finish();
}

async function feedFile(file: string, parser: BenchLogParser): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) parser.push(line);
}

/** Stream a benchmark log from disk; memory does not grow with the file size. */
export async function parseBenchLog(file: string): Promise<BenchParseResult> {
  const parser = new BenchLogParser();
  await feedFile(file, parser);
  return parser.finish();
}

// ---------------------------------------------------------------------------------------------
// per-concurrency result files (benchmark_serving --save-result)
// ---------------------------------------------------------------------------------------------

/** Per-concurrency result keys that differ from our metric keys; `<stat>_<metric>_ms` keys pass through. */
const JSON_KEYS: Record<string, string> = {
  completed: 'successful_requests',
  failed: 'failed_requests',
  num_prompts: 'total_requests',
  total_requests: 'total_requests',
  duration: 'duration_s',
  total_input_tokens: 'total_input_tokens',
  total_output_tokens: 'total_output_tokens',
  request_throughput: 'request_throughput',
  request_goodput: 'request_goodput',
  'request_goodput:': 'request_goodput',
  output_throughput: 'output_throughput',
  total_token_throughput: 'total_token_throughput',
  user_throughput: 'user_throughput',
  max_output_tokens_per_s: 'peak_output_throughput',
  max_concurrent_requests: 'peak_concurrent_requests',
  max_concurrency: 'max_concurrency',
};
const JSON_STAT_KEY = /^(mean|median|std|min|max|p\d+(?:\.\d+)?)_([a-z0-9_]+?)(_ms)?$/;

/** Metrics of one per-concurrency result file; non-numeric and per-request array fields are dropped. */
export function metricsFromResultJson(data: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const fixed = JSON_KEYS[key];
    if (fixed !== undefined) out[fixed] = value;
    else if (JSON_STAT_KEY.test(key)) out[key.replace(/\./g, '_')] = value;
  }
  return out;
}

async function readResultJsons(logDir: string): Promise<Map<number, Record<string, number>>> {
  const found = new Map<number, Record<string, number>>();
  let entries: string[];
  try {
    entries = await readdir(logDir);
  } catch {
    return found;
  }
  for (const name of entries) {
    const m = CONCURRENCY_DIR_RE.exec(name);
    if (!m) continue;
    try {
      const text = await readFile(path.join(logDir, name, RESULT_JSON), 'utf8');
      found.set(Number(m[1]), metricsFromResultJson(JSON.parse(text) as unknown));
    } catch {
      // No result file (crashed run) or a truncated one: the text block is all we have.
    }
  }
  return found;
}

/**
 * Benchmark results of a job's log dir: the bench log's blocks, with the metrics of each
 * per-concurrency result file preferred where one exists (exact values instead of `%.2f`).
 * The text still decides `completed` and `warmup`, because only the shell's `done` line knows.
 */
export async function loadBenchResults(logDir: string, logFile = BENCH_LOG): Promise<BenchParseResult> {
  const parser = new BenchLogParser();
  let haveText = true;
  try {
    await feedFile(path.join(logDir, logFile), parser);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    haveText = false;
  }
  const parsed = parser.finish();
  const jsons = await readResultJsons(logDir);
  const used = new Set<number>();
  const blocks = parsed.blocks.map((b) => {
    if (b.warmup || b.concurrency === null) return b;
    const json = jsons.get(b.concurrency);
    if (json === undefined || used.has(b.concurrency)) return b;
    used.add(b.concurrency);
    return { ...b, metrics: { ...b.metrics, ...json } };
  });
  let missing = parsed.missing;
  for (const c of [...jsons.keys()].sort((a, b) => a - b)) {
    if (used.has(c)) continue;
    // A result file without a text block: complete only if the shell printed its `done` line.
    const completed = !haveText || parser.doneConcurrencies.includes(c);
    blocks.push({ concurrency: c, completed, warmup: false, metrics: jsons.get(c) ?? {} });
    missing = missing.filter((m) => m !== c);
  }
  return { blocks, missing };
}
