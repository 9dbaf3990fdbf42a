// GPUs of a test's deployment for the report (throughput per GPU): the one formula of src/config/gpus.ts.
import { deploymentGpus } from '../config/gpus.js';
import { ConfigError } from '../errors.js';
import type { DisaggConfig } from '../types.js';

/**
 * ctx servers × ctx world size + gen servers × gen world size; undefined when the config has no workers
 * or a count is not a whole number (the report shows what it can instead of failing).
 */
export function gpuCount(config: DisaggConfig): number | undefined {
  const wc = config.worker_config ?? {};
  if (!wc.ctx && !wc.gen) return undefined;
  try {
    const total = deploymentGpus(config).total;
    return total > 0 ? total : undefined;
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
}
