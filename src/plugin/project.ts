import path from 'node:path';
import type { Plugin } from 'vite';
import type { TestTagDefinition } from '@vitest/runner';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { discoverConfigs } from '../config/discover.js';
import { readTestList, applyTestList } from '../config/index.js';
import type { ResolvedOptions } from './options.js';

/** Name of the test project that holds the YAML tests (`vitest --project disagg`). */
export const DISAGG_PROJECT = 'disagg';

const HOUR = 3_600_000;

/** The spec's timeouts per category; the test_type tags carry no timeout. */
export const CATEGORY_TAGS: TestTagDefinition[] = [
  {
    name: 'stress',
    description: 'Disagg stress tests: perf benchmark + accuracy gate (4 h)',
    timeout: 4 * HOUR,
  },
  { name: 'perf', description: 'Disagg performance benchmarks (2 h)', timeout: 2 * HOUR },
  { name: 'accuracy', description: 'Disagg accuracy evaluations (3 h)', timeout: 3 * HOUR },
];

const posix = (p: string) => p.split(path.sep).join('/');

export interface YamlSelection {
  /** The YAML files that become tests, absolute. */
  files: string[];
  /** Every tag a YAML test can carry: the categories and each test_type. */
  tags: TestTagDefinition[];
}

/** Which YAML files are tests (discovery + test list), printing what was left out. */
export function selectYamlTests(o: ResolvedOptions): YamlSelection {
  const discovery = discoverConfigs(o.configDir);
  for (const notice of discovery.notices) console.warn(`[vitest-disagg] ${notice}`);
  let files = discovery.entries.map((e) => e.file);
  if (o.testList) {
    const list = readTestList(o.testList);
    const { selected, unmatched } = applyTestList(discovery.entries, list);
    for (const id of unmatched) console.warn(`[vitest-disagg] ${o.testList}: no config matches ${id}`);
    console.warn(
      `[vitest-disagg] test list ${o.testList}: ${selected.length} of ${discovery.entries.length} selected`,
    );
    files = selected.map((e) => e.file);
  }
  const testTypes = new Set([...discovery.entries.map((e) => e.testType), 'disagg', 'wideep']);
  const typeTags = [...testTypes].map((name) => ({ name, description: `test_type ${name}` }));
  return { files, tags: [...CATEGORY_TAGS, ...typeTags] };
}

/**
 * The YAML tests' own test project. Its pool, isolation, include list and workers apply to the YAML
 * tests only; the user's own tests keep their project and settings. `groupOrder` puts it after every
 * other project, because Vitest refuses projects with different `maxWorkers` in the same group.
 */
export function yamlProject(
  o: ResolvedOptions,
  selection: YamlSelection,
  plugins: Plugin[],
  groupOrder: number,
): TestProjectInlineConfiguration {
  return {
    plugins,
    test: {
      name: DISAGG_PROJECT,
      root: o.root,
      // Vitest globs the include list from `dir`: the config dir, not the root, which for a config dir
      // outside the root would be a common parent such as `/` (a crawl of the whole disk).
      ...(selection.files.length ? { dir: o.configDir } : {}),
      // A test list that selects nothing must run nothing, not everything.
      include: selection.files.length
        ? selection.files.map((f) => posix(path.relative(o.configDir, f)))
        : ['__no_disagg_config__'],
      includeTaskLocation: true,
      tags: selection.tags,
      // Threads: Ctrl-C reaches only the main process, which cancels jobs; workers just wait on I/O.
      pool: 'threads',
      // One module graph per worker: the fixtures load once, not once per YAML file.
      isolate: false,
      maxWorkers: o.maxWorkers,
      hookTimeout: 10 * 60_000,
      sequence: { groupOrder },
    },
  };
}

/** One more than the highest `sequence.groupOrder` of the given project configs (0 when unset). */
export function groupOrderAfter(orders: Array<number | undefined>): number {
  return Math.max(0, ...orders.map((o) => o ?? 0)) + 1;
}
