import type { Reporter, TestProject, Vitest } from 'vitest/node';

// Vitest calls the global setup both for a run and for a collection (`vitest list`). A reporter's
// `onTestRunStart` comes before the global setup on a run and never on a collection, so a reporter marks
// the runs. The plugin (loaded with the config) and the global setup (loaded by Vite's module runner)
// are separate module instances in one process: the state lives behind a global symbol.
const KEY = Symbol.for('vitest-disagg.run-mode');

interface RunMode {
  runs: WeakSet<Vitest>;
  /** Puts back the worker count of projects switched to one worker for a collection. */
  restore: WeakMap<Vitest, () => void>;
}

type Holder = { [KEY]?: RunMode };

function state(): RunMode {
  const holder = globalThis as Holder;
  return (holder[KEY] ??= { runs: new WeakSet(), restore: new WeakMap() });
}

/** The reporter that marks `vitest` as running tests (not only collecting them). */
export function runMarker(vitest: Vitest): Reporter {
  return {
    onTestRunStart() {
      const s = state();
      s.runs.add(vitest);
      s.restore.get(vitest)?.();
      s.restore.delete(vitest);
    },
  };
}

/** True once `vitest` started a test run; false while it only collects (`vitest list`). */
export function isTestRun(vitest: Vitest): boolean {
  return state().runs.has(vitest);
}

/** Maximum workers of a project that only collects: one, so Vitest sends it all files in one task. */
export const COLLECT_WORKERS = 1;

/**
 * Collecting a non-isolated project costs Vitest one worker task (and, with N workers, N worker
 * start-ups) per file unless the project has a single worker, which then receives every file at once
 * (Vitest's `groupSpecs`). Waiting on jobs needs many workers, listing needs one: the global setup
 * (called before the pool groups the files) switches the project to one worker when the run only
 * collects; a later run of the same Vitest instance gets its workers back. `maxWorkers` is read from the
 * project's resolved config when the pool groups the files; re-check on every Vitest upgrade
 * (`npx tsx scripts/bench/list-scale.ts`; tests/unit/plugin/global-setup-scale.test.ts checks the switch).
 */
export function collectWithOneWorker(project: TestProject): void {
  const config = project.config as { maxWorkers: number };
  const before = config.maxWorkers;
  if (before === COLLECT_WORKERS) return;
  config.maxWorkers = COLLECT_WORKERS;
  const s = state();
  const previous = s.restore.get(project.vitest);
  s.restore.set(project.vitest, () => {
    previous?.();
    config.maxWorkers = before;
  });
}
