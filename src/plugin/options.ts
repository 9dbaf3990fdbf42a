// The plugin's options are resolved by the settings core (src/settings); kept here under their old names.
import path from 'node:path';
import type { ResolvedOptions } from '../settings/options.js';

export type { DisaggOptions, ResolvedOptions } from '../settings/options.js';
export { resolveSettings as resolveOptions } from '../settings/resolve.js';

/** `$OUTPUT_PATH/slurm_logs/<testId>` — the original's log dir layout. */
export function logDirFor(opts: Pick<ResolvedOptions, 'outputPath'>, testId: string): string {
  return path.join(opts.outputPath, 'slurm_logs', testId);
}
