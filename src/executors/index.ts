import type { ResolvedOptions } from '../plugin/options.js';
import { LocalExecutor } from './local.js';
import type { Executor, ExecutorKind } from './types.js';

export type { Executor, ExecutorKind, Host, CommandResult } from './types.js';

/** The executor for a run. SLURM/SSH modules load only when used (no SSH code for local runs). */
export async function createExecutor(kind: ExecutorKind, options: ResolvedOptions): Promise<Executor> {
  if (kind === 'local') return new LocalExecutor();
  const registry = await import('./registry.js');
  return registry.createExecutor(kind, options);
}
