import { DISAGG_PROJECT } from './project.js';

// `vitest --project <name>` without `test.projects`: Vitest keeps its root project only when the filter
// matches the root's name (usually empty), and calls `configureVitest` only for the projects it kept. A
// filter that names `disagg` alone thus leaves no project, nothing to inject ours into, and Vitest says
// "No projects matched". In that case the plugin makes the YAML project the run's only project (the
// filter left the root's own tests out anyway), so `--project disagg` selects what the output calls
// `[disagg]`.

/** Vitest's `--project` pattern: `*` matches anything, `!x` everything but x, case-insensitive, whole name. */
export function projectPattern(pattern: string): RegExp {
  const negated = pattern.startsWith('!');
  const body = negated ? pattern.slice(1) : pattern;
  let re = `${body
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')}$`;
  if (negated) re = `(?!${re})`;
  return new RegExp(`^${re}`, 'i');
}

/** Whether Vitest's project filter keeps a project of this name (no filter keeps every project). */
export function filterKeeps(filter: readonly string[], name: string): boolean {
  return filter.length === 0 || filter.some((p) => projectPattern(p).test(name));
}

/** The part of Vitest's merged options (`_vitest` on Vite's resolved config) this decision reads. */
export interface VitestRootOptions {
  project?: string | string[];
  projects?: unknown;
  name?: string | { label?: string };
}

/**
 * True when the run's project filter keeps `disagg` but not the root project and the user has no
 * `test.projects`: only then must the YAML project become a project of the config for Vitest to see it.
 */
export function yamlProjectOnlyByFilter(o: VitestRootOptions): boolean {
  if (o.projects !== undefined) return false;
  const filter = o.project === undefined ? [] : [o.project].flat();
  if (!filter.length) return false;
  const rootName = typeof o.name === 'string' ? o.name : (o.name?.label ?? '');
  return !filterKeeps(filter, rootName) && filterKeeps(filter, DISAGG_PROJECT);
}
