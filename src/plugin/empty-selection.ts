import type { Reporter, TestModule, Vitest } from 'vitest/node';
import type { ResolvedOptions } from './options.js';
import { DISAGG_PROJECT, selectEntries } from './project.js';

// A test list, `-t` or `--tags-filter` that selects no YAML test must not let a CI job go green having
// run nothing. `onTestRunEnd` comes after Vitest set its own exit code (also when no test file was
// found at all) and only on a run, never on `vitest list`; setting `process.exitCode` there is kept.

/** What the user asked for to narrow the YAML tests; empty when nothing narrows them. */
export function selectionAsked(vitest: Vitest, options: ResolvedOptions): string[] {
  const asked: string[] = [];
  if (options.testList) asked.push(`test list ${options.testList}`);
  const pattern = vitest.config.testNamePattern;
  if (pattern) asked.push(`-t ${pattern.source}`);
  const tags = vitest.config.tagsFilter;
  if (tags?.length) asked.push(`--tags-filter ${tags.join(' ')}`);
  return asked;
}

/**
 * Tests the run really selected (a test the GPU type skips at run time still counts): the YAML tests
 * only, or those of every project.
 */
export function selectedTests(modules: ReadonlyArray<TestModule>, yamlOnly: boolean): number {
  let n = 0;
  for (const m of modules) {
    if (yamlOnly && m.project.name !== DISAGG_PROJECT) continue;
    for (const t of m.children.allTests()) if (t.options.mode === 'run' || t.options.mode === 'only') n++;
  }
  return n;
}

/** The lines that say why the run fails (or, with `--passWithNoTests`, why it passes). */
export function emptySelectionMessage(
  asked: readonly string[],
  unmatched: readonly string[],
  pass: boolean,
): string[] {
  const lines = [`no YAML test selected by ${asked.join(', ')}`];
  if (unmatched.length) {
    lines.push(`test-list ids that match no config (${unmatched.length}):`);
    for (const id of unmatched) lines.push(`  ${id}`);
  }
  lines.push(
    pass
      ? 'passing anyway (--passWithNoTests)'
      : 'the run fails so that a CI job cannot pass having run nothing; pass --passWithNoTests to allow it',
  );
  return lines;
}

/** The reporter that fails a run whose YAML selection is empty. */
export function emptySelectionGuard(vitest: Vitest, options: () => ResolvedOptions): Reporter {
  return {
    onTestRunEnd(modules) {
      // `--project` may leave the YAML project out: then it selects nothing on purpose.
      if (!vitest.projects.some((p) => p.name === DISAGG_PROJECT)) return;
      const o = options();
      const asked = selectionAsked(vitest, o);
      // A test list is ours: it must select YAML tests. `-t`/`--tags-filter` are Vitest's own and may
      // rightly pick only hand-written tests; they fail the run only when it selected no test at all.
      if (asked.length === 0 || selectedTests(modules, Boolean(o.testList)) > 0) return;
      const unmatched = o.testList ? selectEntries(o).unmatched : [];
      const pass = vitest.config.passWithNoTests;
      for (const line of emptySelectionMessage(asked, unmatched, pass))
        console.error(`[vitest-disagg] ${line}`);
      if (!pass) process.exitCode = 1;
    },
  };
}
