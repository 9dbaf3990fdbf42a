// Short simulator configs for suite-level runs (benchmarks and fault tests): one YAML per job under
// `<dir>/disagg/perf/<stem>.yaml` (perf tests: no accuracy needed), so the test of `<stem>` is
// `disagg_perf_<stem>`.
import fs from 'node:fs';
import path from 'node:path';
import { SIM_SCRIPT } from '../../../src/jobdir/files.js';

export interface SimConfigOptions {
  /** Real seconds per simulated second: the job's length scales with it (0.2 ≈ 10 s of work). */
  timeScale: number;
  concurrencies?: string;
  outputLength?: number;
  /** `slurm.job_time`. */
  jobTime?: string;
}

export function simConfig(name: string, o: SimConfigOptions): string {
  // Mostly waiting work at low concurrency, so that many jobs share 2 cores without slowing each other much.
  return `metadata:
  model_name: ${name}
  precision: fp8
  supported_gpus: [GB200]
  script_file: ${SIM_SCRIPT}
slurm:
  script_file: ${SIM_SCRIPT}
  job_time: '${o.jobTime ?? '00:05:00'}'
benchmark:
  mode: e2e
  multi_round: 2
  streaming: true
  concurrency_list: '${o.concurrencies ?? '1 2'}'
  input_length: 256
  output_length: ${o.outputLength ?? 1024}
hardware:
  gpus_per_node: 4
  num_ctx_servers: 1
  num_gen_servers: 1
accuracy:
  enable_accuracy_test: false
worker_config:
  gen: { tensor_parallel_size: 4, max_batch_size: 8, max_num_tokens: 64, max_seq_len: 2048, stream_interval: 20 }
  ctx: { tensor_parallel_size: 4, max_batch_size: 2, max_num_tokens: 2048, max_seq_len: 2048 }
simulator:
  time_scale: ${o.timeScale}
`;
}

/** Writes `stems.length` configs into `dir`; returns the test names in order. */
export function writeSimSuite(dir: string, stems: string[], o: SimConfigOptions): string[] {
  const perf = path.join(dir, 'disagg', 'perf');
  fs.mkdirSync(perf, { recursive: true });
  for (const stem of stems) fs.writeFileSync(path.join(perf, `${stem}.yaml`), simConfig(stem, o));
  return stems.map((s) => `disagg_perf_${s}`);
}
