// The one GPU-count formula (servers × tp × pp × cp per side) and its two callers agreeing: sbatch's
// node counts and the report's GPU count.
import { describe, expect, it } from 'vitest';
import { deploymentGpus } from '../../../src/config/gpus.js';
import { computeNodeCounts } from '../../../src/executors/sbatch.js';
import { gpuCount } from '../../../src/report/gpus.js';
import type { DisaggConfig } from '../../../src/types.js';

const config: DisaggConfig = {
  hardware: { gpus_per_node: 4, num_ctx_servers: 2, num_gen_servers: 1 },
  worker_config: {
    ctx: { tensor_parallel_size: 4 },
    gen: { tensor_parallel_size: 8, pipeline_parallel_size: 2, context_parallel_size: 2 },
  },
};

describe('deploymentGpus', () => {
  it('per side servers × tp × pp × cp; sbatch and the report use it', () => {
    expect(deploymentGpus(config)).toEqual({
      ctxServers: 2,
      genServers: 1,
      ctxWorldSize: 4,
      genWorldSize: 32,
      ctxGpus: 8,
      genGpus: 32,
      total: 40,
    });
    const nodes = computeNodeCounts(config);
    expect([nodes.ctxNodes, nodes.genNodes]).toEqual([8 / 4, 32 / 4]);
    expect(gpuCount(config)).toBe(40);
  });

  it('servers default to 1 per configured side and 0 otherwise', () => {
    expect(deploymentGpus({ worker_config: { gen: { tensor_parallel_size: 2 } } }).total).toBe(2);
    expect(deploymentGpus({}).total).toBe(0);
    expect(gpuCount({})).toBeUndefined();
  });

  it('a bad count names its YAML path; the report then shows no GPU count instead of failing', () => {
    const bad: DisaggConfig = { ...config, worker_config: { ctx: { tensor_parallel_size: 2.5 } } };
    expect(() => deploymentGpus(bad)).toThrow(
      'worker_config.ctx.tensor_parallel_size must be a non-negative integer, got 2.5',
    );
    expect(() => computeNodeCounts(bad)).toThrow('worker_config.ctx.tensor_parallel_size');
    expect(gpuCount(bad)).toBeUndefined();
  });
});
