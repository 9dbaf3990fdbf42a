// The plugin's options are resolved by the settings core (src/settings); kept here under their old names.
import { latestLinkFor } from '../broker/job-dirs.js';
import type { ResolvedOptions } from '../settings/options.js';

export type { DisaggOptions, ResolvedOptions } from '../settings/options.js';
export { resolveSettings as resolveOptions } from '../settings/resolve.js';

/** `$OUTPUT_PATH/slurm_logs/<testId>`: the link to the test's latest run dir (layout: src/broker/job-dirs.ts). */
export function logDirFor(opts: Pick<ResolvedOptions, 'outputPath'>, testId: string): string {
  return latestLinkFor(opts.outputPath, testId);
}
