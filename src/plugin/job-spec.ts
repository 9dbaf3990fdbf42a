import { ConfigError } from '../errors.js';
import {
  assertSubmittable,
  formatProblem,
  hasErrors,
  loadConfig,
  upstreamFormatNotice,
} from '../config/index.js';
import { CATEGORY_TIMEOUT_MS } from '../config/naming.js';
import type { ConfigEntry, JobSpec, LoadedConfig } from '../types.js';
import { gateConfigProblems } from '../stats/gate-config.js';
import { slurmTimeToMs } from '../util/duration.js';
import { newRunId, runDirFor } from '../broker/job-dirs.js';
import type { ResolvedOptions } from './options.js';

/** Load a config; any validation error throws with every problem as `file:line:col path: message`. */
export function loadChecked(
  entry: ConfigEntry,
  options: ResolvedOptions,
  printWarnings = false,
): LoadedConfig {
  const loaded = loadConfig(entry, {
    vars: options.placeholderVars,
    gpuType: options.gpuType,
    strict: options.strict,
    limits: options.configLimits,
    // Perf gates too: a gate mistake fails the test here, before its job is submitted.
    extraChecks: (input) => gateConfigProblems(input, options.gates),
  });
  if (printWarnings) {
    for (const w of loaded.problems.filter((p) => p.severity === 'warning')) {
      console.warn(`[vitest-disagg] ${formatProblem(w)}`);
    }
  }
  if (hasErrors(loaded.problems)) {
    const errors = loaded.problems.filter((p) => p.severity === 'error');
    throw new ConfigError(
      `${entry.relFile}: ${errors.length} config error(s):\n` +
        errors.map((p) => `  ${formatProblem(p)}`).join('\n'),
      entry.file,
    );
  }
  return loaded;
}

/**
 * Everything an executor needs to run a test's job; throws a clear error if it cannot be submitted.
 * `runId`: the run's id (one per Vitest run), which names the job's own log dir. `notice` hears that an
 * old-format file is uploaded converted (the caller says it once per run).
 */
export async function jobSpecFor(
  entry: ConfigEntry,
  options: ResolvedOptions,
  runId: string = newRunId(),
  notice?: (message: string) => void,
): Promise<JobSpec> {
  const loaded = loadChecked(entry, options);
  if (loaded.formatMoves) notice?.(upstreamFormatNotice(entry.relFile, loaded.formatMoves));
  if (loaded.skipReason)
    throw new ConfigError(`${entry.testId} is skipped: ${loaded.skipReason}`, entry.file);
  assertSubmittable(loaded);
  return {
    testId: entry.testId,
    configHash: loaded.hash,
    config: loaded.config,
    configFile: entry.file,
    localLogDir: runDirFor(options.outputPath, runId, entry.testId),
    timeLimitMs: slurmTimeToMs(loaded.config.slurm?.job_time) ?? CATEGORY_TIMEOUT_MS[entry.category],
  };
}
