// Benchmark of the streaming bench-log parser: generates a ~20 MB and a ~200 MB log (srun
// prefixes, tqdm bars with \r, server noise, a warm-up block, many concurrency blocks), parses
// each with parseBenchLog and prints wall time, MB/s and the peak RSS growth during the parse.
// Memory should stay flat between the two sizes. Run: npx tsx scripts/bench/parse-bench.ts
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BENCH_LOG } from '../../src/jobdir/files.js';
import { parseBenchLog } from '../../src/parsers/bench.js';

const MB = 1024 * 1024;
const TARGET_S = 4;

const metric = (label: string, value: string): string => `0: ${label.padEnd(40)} ${value.padEnd(10)}\n`;

function block(c: number, seed: number): string {
  const v = (base: number): string => (base + (seed % 97) / 10).toFixed(2);
  let out = `0: Benchmarking with concurrency ${c} ... ${c * 8} prompts\n`;
  out += '0: Traffic request rate: inf\n0: Burstiness factor: 1.0 (Poisson process)\n';
  out += `0: Maximum request concurrency: ${c}\n0: Total failed requests: 0\n`;
  out += '0: ============ Serving Benchmark Result ============\n';
  out += metric('Total requests:', String(c * 8)) + metric('Successful requests:', String(c * 8));
  out += metric('Failed requests:', '0') + metric('Benchmark duration (s):', v(41));
  out +=
    metric('Total input tokens:', String(c * 8192)) + metric('Total generated tokens:', String(c * 8192));
  out += metric('Request throughput (req/s):', v(0.7)) + metric('Output token throughput (tok/s):', v(798));
  out += metric('Total Token throughput (tok/s):', v(1596)) + metric('User throughput (tok/s):', v(200));
  for (const [name, header] of [
    ['TTFT', '---------------Time to First Token----------------'],
    ['TPOT', '-----Time per Output Token (excl. 1st token)------'],
    ['ITL', '---------------Inter-token Latency----------------'],
    ['E2EL', '----------------End-to-end Latency----------------'],
  ] as const) {
    out += `0: ${header}\n`;
    for (const stat of ['Mean', 'Median', 'Std Dev', 'P99']) out += metric(`${stat} ${name} (ms):`, v(100));
  }
  out += `0: ${'='.repeat(50)}\n0: Benchmark with concurrency ${c} done\n`;
  return out;
}

/** Lines between blocks: what a real log is mostly made of. */
function noise(lines: number, seed: number): string {
  let out = '';
  for (let i = 0; i < lines; i++) {
    if (i % 50 === 0) {
      out += `0: \r  0%|          | 0/256 [00:00<?, ?it/s]\r 37%|###7      | 95/256 [00:14<00:24,  6.61it/s]\r100%|##########| 256/256 [00:39<00:00,  6.52it/s]\n`;
    } else {
      out += `0: [TensorRT-LLM][INFO] iter=${seed * lines + i} num_scheduled_requests=64 gen_tokens=${i % 4096} kv_cache_util=0.${i % 97} step_ms=12.${i % 9}\n`;
    }
  }
  return out;
}

async function generate(file: string, targetBytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let seed = 0;
  const write = async (chunk: string): Promise<void> => {
    written += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(
    '0: Running UCX warm-up\n' +
      block(1, 0).replace(/0: Benchmark.*done\n$/, '') +
      '0: Starting benchmark...\n',
  );
  const concurrencies = [1, 2, 4, 8, 16, 32, 64, 128];
  while (written < targetBytes) {
    seed++;
    await write(noise(1500, seed));
    await write(block(concurrencies[seed % concurrencies.length], seed));
  }
  out.end();
  await once(out, 'finish');
  return seed;
}

interface Measure {
  mb: number;
  blocks: number;
  seconds: number;
  mbPerS: number;
  rssBaseMb: number;
  rssPeakDeltaMb: number;
  heapPeakDeltaMb: number;
}

async function measure(file: string): Promise<Measure> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const size = (await stat(file)).size;
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  // readline yields to the event loop between chunks, so the timer samples during the parse.
  const timer = setInterval(sample, 5);
  const t0 = process.hrtime.bigint();
  const result = await parseBenchLog(file);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  sample();
  return {
    mb: size / MB,
    blocks: result.blocks.length,
    seconds,
    mbPerS: size / MB / seconds,
    rssBaseMb: base.rss / MB,
    rssPeakDeltaMb: (peakRss - base.rss) / MB,
    heapPeakDeltaMb: (peakHeap - base.heapUsed) / MB,
  };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parse-bench-'));
  try {
    const small = path.join(dir, `small_${BENCH_LOG}`);
    const large = path.join(dir, `large_${BENCH_LOG}`);
    process.stdout.write('generating logs… ');
    await generate(small, 20 * MB);
    await generate(large, 200 * MB);
    process.stdout.write('done\n');
    // Warm the JIT on the small file so the first measurement is not penalised.
    await parseBenchLog(small);
    const rows = [
      ['~20 MB', await measure(small)],
      ['~200 MB', await measure(large)],
    ] as const;
    console.log('\nfile      size MB  blocks  wall s   MB/s   RSS base MB  peak RSS Δ MB  peak heap Δ MB');
    for (const [name, m] of rows) {
      console.log(
        `${name.padEnd(9)} ${m.mb.toFixed(1).padStart(7)} ${String(m.blocks).padStart(7)} ${m.seconds
          .toFixed(2)
          .padStart(
            7,
          )} ${m.mbPerS.toFixed(0).padStart(6)} ${m.rssBaseMb.toFixed(1).padStart(12)} ${m.rssPeakDeltaMb
          .toFixed(1)
          .padStart(14)} ${m.heapPeakDeltaMb.toFixed(1).padStart(15)}`,
      );
    }
    const big = rows[1][1];
    const verdict = big.seconds < TARGET_S ? 'meets' : 'MISSES';
    console.log(`\n200 MB parse ${verdict} the ${TARGET_S} s target (${big.seconds.toFixed(2)} s).`);
    console.log('Peak RSS growth should be about the same for both sizes (the parser streams).');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
