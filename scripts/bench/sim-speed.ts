// Speed of the virtual-time benchmark (issue 18 item 4): CPU time to simulate a whole concurrency sweep of
// real TensorRT-LLM configs (tests/fixtures/trtllm) and to write it as the job writes it (the bench log
// and each concurrency's result JSON with per-request arrays). Each config runs as upstream wrote it and
// as the reference sweep: concurrency 1 2 4 … 1024, multi_round 8, 1k/1k. Target: ≤ 5 s of CPU
// to simulate a sweep. CPU time (process.cpuUsage), not wall time: it is what the job costs the node,
// and the host's other load does not inflate it much.
//   npx tsx scripts/bench/sim-speed.ts [rounds=3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { benchLogWriter, writeLevelEnd, writeLevelStart } from '../../src/sim/bench-client.js';
import { resolveSettings } from '../../src/sim/settings.js';
import { simulateSweep } from '../../src/sim/virtual-bench.js';
import type { DisaggConfig } from '../../src/types.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIGS = [
  'tests/fixtures/trtllm/test_configs/disagg/perf/deepseek-r1-fp4_1k1k_ctx1_gen4_tep8_bs32_eplb0_mtp3_ccb-NIXL.yaml',
  'tests/fixtures/trtllm/test_configs/wideep/perf/deepseek-r1-fp4_8k1k_ctx2_gen1_dep32_bs128_eplb288_mtp3_ccb-DEFAULT.yaml',
  'tests/fixtures/trtllm/test_configs/wideep/perf/kimi-k2-thinking-fp4_1k1k_ctx3_gen1_dep32_bs1024_eplb384_mtp0_ccb-UCX.yaml',
];
const ROUNDS = Math.max(1, Number(process.argv[2] ?? 3));
const SWEEP = Array.from({ length: 11 }, (_, i) => 2 ** i).join(' ');

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

function load(): string {
  return `${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')} (1/5/15 min) on ${os.cpus().length} cores`;
}

function measure(label: string, cfg: DisaggConfig): void {
  const s = resolveSettings(cfg, { DISAGG_SIM_NOISE: '0.01' });
  const requests = s.bench.concurrencies.reduce((a, c) => a + c * s.bench.multiRound, 0);
  const sim: number[] = [];
  const write: number[] = [];
  let tokens = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let levels: ReturnType<typeof simulateSweep> = [];
    sim.push(cpuMs(() => (levels = simulateSweep(s, r + 1))));
    tokens = levels.reduce((a, l) => a + l.metrics.totalOutput, 0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sim-speed-'));
    try {
      write.push(
        cpuMs(() => {
          const out = benchLogWriter(dir);
          for (const l of levels) {
            writeLevelStart(out, l.concurrency, l.numPrompts);
            writeLevelEnd(out, dir, l, s.modelPath, s.bench.useNvSa);
          }
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const fmt = (xs: number[]): string => {
    const sorted = [...xs].sort((a, b) => a - b);
    return `min ${(sorted[0]! / 1000).toFixed(2)} s, median ${(sorted[sorted.length >> 1]! / 1000).toFixed(2)} s`;
  };
  console.log(
    `${label}\n  concurrency ${s.bench.concurrencies.join(' ')} × multi_round ${s.bench.multiRound}, ` +
      `${s.bench.inputLength}/${s.bench.outputLength}, stream_interval ${s.gen.streamInterval}: ` +
      `${requests.toLocaleString('en-US')} requests, ${tokens.toLocaleString('en-US')} output tokens\n` +
      `  simulate: ${fmt(sim)} CPU (target ≤ 5 s) · write the logs: ${fmt(write)} CPU`,
  );
}

console.log(`load at start: ${load()}; ${ROUNDS} rounds each`);
for (const rel of CONFIGS) {
  const cfg = parse(readFileSync(path.join(repo, rel), 'utf8')) as DisaggConfig;
  const name = path.basename(rel);
  measure(`${name} (as upstream wrote it)`, cfg);
  measure(`${name} (reference sweep)`, {
    ...cfg,
    benchmark: {
      ...cfg.benchmark,
      concurrency_list: SWEEP,
      multi_round: 8,
      input_length: 1024,
      output_length: 1024,
    },
  });
}
// The worst case for memory and the writer: one stream chunk per token (16.8 M ITL values).
const first = parse(readFileSync(path.join(repo, CONFIGS[1]!), 'utf8')) as DisaggConfig;
measure(`${path.basename(CONFIGS[1]!)} (reference sweep, stream_interval 1)`, {
  ...first,
  benchmark: {
    ...first.benchmark,
    concurrency_list: SWEEP,
    multi_round: 8,
    input_length: 1024,
    output_length: 1024,
  },
  worker_config: { ...first.worker_config, gen: { ...first.worker_config?.gen, stream_interval: 1 } },
});
console.log(`load at end: ${load()}`);
