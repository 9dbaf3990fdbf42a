// GPUs a disaggregated deployment uses: per side, servers × world size (tp × pp × cp), the same
// formula the original submit.py (and src/executors/sbatch.ts) uses before rounding up to nodes.
import type { DisaggConfig } from '../types.js';

function count(value: unknown, fallback: number): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : fallback;
}

function worldSize(worker: Record<string, unknown> | undefined): number {
  const dims = ['tensor_parallel_size', 'pipeline_parallel_size', 'context_parallel_size'];
  return dims.reduce((size, key) => size * Math.max(1, count(worker?.[key], 1)), 1);
}

/** ctx servers × ctx world size + gen servers × gen world size; undefined when the config has no workers. */
export function gpuCount(config: DisaggConfig): number | undefined {
  const hw = config.hardware ?? {};
  const wc = config.worker_config ?? {};
  if (!wc.ctx && !wc.gen) return undefined;
  const ctxServers = count(hw.num_ctx_servers, wc.ctx ? 1 : 0);
  const genServers = count(hw.num_gen_servers, wc.gen ? 1 : 0);
  const total = ctxServers * worldSize(wc.ctx) + genServers * worldSize(wc.gen);
  return total > 0 ? total : undefined;
}
