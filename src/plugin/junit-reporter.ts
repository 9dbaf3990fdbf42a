import type { RunnerTask, RunnerTestCase } from 'vitest';
import { JUnitReporter } from 'vitest/node';
import { disaggProperties } from '../progress/junit-properties.js';
import type { DisaggMeta } from '../types.js';

type JUnitOptions = ConstructorParameters<typeof JUnitReporter>[0];

/**
 * Vitest's JUnit reporter, whose `<properties>` of a disagg test also carry its job, state, log dir, perf
 * metrics and accuracy values (`disagg.*`, see src/progress/junit-properties.ts). Vitest writes a test's
 * annotations as its properties; these are added to the copies of the tasks it writes, at the end of the
 * run, so no other reporter (nor the default one's failure summary) sees them.
 * The plugin puts it in place of `junit` wherever that is asked for (config or `--reporter=junit`).
 */
export class DisaggJUnitReporter extends JUnitReporter {
  constructor(options: JUnitOptions = {}) {
    super(options);
  }

  override writeTasks(tasks: RunnerTask[], filename: string): Promise<void> {
    return super.writeTasks(tasks.map(withProperties), filename);
  }
}

function withProperties(task: RunnerTask): RunnerTask {
  const meta = (task.meta as { disagg?: Partial<DisaggMeta> }).disagg;
  if (task.type !== 'test' || !meta) return task;
  const extra = disaggProperties(meta).map((p) => ({ type: p.name, message: p.value }));
  const test: RunnerTestCase = { ...task, annotations: [...task.annotations, ...extra] };
  return test;
}

/** A resolved reporter entry that asks for Vitest's JUnit reporter: `'junit'` or `['junit', options]`. */
export function junitOptionsOf(entry: unknown): JUnitOptions | undefined {
  if (entry === 'junit') return {};
  if (Array.isArray(entry) && entry[0] === 'junit') return (entry[1] ?? {}) as JUnitOptions;
  return undefined;
}

export default DisaggJUnitReporter;

/** Swap Vitest's JUnit reporter for this one in the run's reporters (before Vitest creates them). */
export function useDisaggJUnit(config: { reporters: unknown[] }): void {
  config.reporters = config.reporters.map((entry) => {
    const options = junitOptionsOf(entry);
    return options ? new DisaggJUnitReporter(options) : entry;
  });
}
