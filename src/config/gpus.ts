// GPUs a disaggregated deployment uses, the one formula (the original submit.py's): per side, servers ×
// world size (tp × pp × cp). sbatch rounds each side up to nodes; the report divides throughput by it.
import { ConfigError } from '../errors.js';
import type { DisaggConfig } from '../types.js';

export interface DeploymentGpus {
  ctxServers: number;
  genServers: number;
  /** tp × pp × cp of one server of each side. */
  ctxWorldSize: number;
  genWorldSize: number;
  /** servers × world size. */
  ctxGpus: number;
  genGpus: number;
  total: number;
}

/** A count from the YAML; `fallback` when absent; a ConfigError naming the path when not a whole number ≥ 0. */
export function configCount(value: unknown, yamlPath: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ConfigError(`${yamlPath} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function worldSize(worker: Record<string, unknown> | undefined, side: 'ctx' | 'gen'): number {
  const dims = ['tensor_parallel_size', 'pipeline_parallel_size', 'context_parallel_size'] as const;
  return dims.reduce(
    (size, key) => size * Math.max(1, configCount(worker?.[key], `worker_config.${side}.${key}`, 1)),
    1,
  );
}

/** Throws a ConfigError naming the YAML path of a count that is not a whole number ≥ 0. */
export function deploymentGpus(config: DisaggConfig): DeploymentGpus {
  const hw = config.hardware ?? {};
  const wc = config.worker_config ?? {};
  const ctxServers = configCount(hw.num_ctx_servers, 'hardware.num_ctx_servers', wc.ctx ? 1 : 0);
  const genServers = configCount(hw.num_gen_servers, 'hardware.num_gen_servers', wc.gen ? 1 : 0);
  const ctxWorldSize = worldSize(wc.ctx, 'ctx');
  const genWorldSize = worldSize(wc.gen, 'gen');
  const ctxGpus = ctxServers * ctxWorldSize;
  const genGpus = genServers * genWorldSize;
  return { ctxServers, genServers, ctxWorldSize, genWorldSize, ctxGpus, genGpus, total: ctxGpus + genGpus };
}
