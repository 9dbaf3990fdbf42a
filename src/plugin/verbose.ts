import type { ResolvedOptions } from './options.js';

/** Whether a run's reporter list asks for Vitest's verbose reporter (`--reporter=verbose`, config). */
export function asksVerbose(reporters: readonly unknown[]): boolean {
  return reporters.some((r) => r === 'verbose' || (Array.isArray(r) && r[0] === 'verbose'));
}

/**
 * The options the workers get: `verbose` also when the run uses the verbose reporter (only the main
 * process knows the reporters, CLI flags included, once Vitest merged them).
 */
export function withReporterVerbosity(o: ResolvedOptions, reporters: readonly unknown[]): ResolvedOptions {
  return o.verbose || !asksVerbose(reporters) ? o : { ...o, verbose: true };
}
