import path from 'node:path';
import type { Plugin } from 'vite';
import type { TestTagDefinition } from '@vitest/runner';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { discoverConfigs, type DiscoveryResult } from '../config/discover.js';
import { readTestList, applyTestList } from '../config/index.js';
import type { ConfigEntry } from '../types.js';
import { sourceOrBuilt } from '../util/package-root.js';
import { folderModulesDir, writeFolderModules } from './folder-modules.js';
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
  /** The test modules Vitest globs (relative to `dir`): the YAML files, or the folder modules. */
  modules: {
    kind: 'config' | 'folder';
    dir: string;
    include: string[];
    /** Tests in the largest module. */
    largest: number;
  };
}

/** The fixtures module every generated test imports (the built one in an installed package). */
export function fixturesModule(): string {
  return posix(sourceOrBuilt('fixtures', 'index'));
}

/** `testModules: 'auto'` generates folder modules above this many selected configs. */
export const AUTO_FOLDER_MODULES_ABOVE = 200;

function testModules(o: ResolvedOptions, entries: ConfigEntry[]): YamlSelection['modules'] {
  const auto = o.testModules === 'auto' && entries.length > AUTO_FOLDER_MODULES_ABOVE;
  if (o.testModules === 'folder' || auto) {
    const dir = folderModulesDir(o.root, o.configDir);
    const written = writeFolderModules(dir, entries, fixturesModule());
    if (auto) {
      console.warn(
        `[vitest-disagg] ${entries.length} configs: one test module per <test_type>/<category> folder ` +
          `(${written.length}, under ${path.relative(o.root, dir) || dir}; testModules 'auto' does this above ` +
          `${AUTO_FOLDER_MODULES_ABOVE}). Select tests with -t or --tags-filter; set testModules: 'config' for one module per YAML.`,
      );
    }
    return {
      kind: 'folder',
      dir,
      include: written.map((w) => w.module),
      largest: Math.max(0, ...written.map((w) => w.tests)),
    };
  }
  const include = entries.map((e) => posix(path.relative(o.configDir, e.file)));
  return { kind: 'config', dir: o.configDir, include, largest: 1 };
}

/** The configs that are tests: discovery, then the test list. Quiet: the caller tells what was left out. */
export function selectEntries(o: ResolvedOptions): {
  discovery: DiscoveryResult;
  selected: ConfigEntry[];
  unmatched: string[];
} {
  const discovery = discoverConfigs(o.configDir);
  if (!o.testList) return { discovery, selected: discovery.entries, unmatched: [] };
  const { selected, unmatched } = applyTestList(discovery.entries, readTestList(o.testList));
  return { discovery, selected, unmatched };
}

/** Which YAML files are tests (discovery + test list), printing what was left out. */
export function selectYamlTests(o: ResolvedOptions): YamlSelection {
  const { discovery, selected, unmatched } = selectEntries(o);
  for (const notice of discovery.notices) console.warn(`[vitest-disagg] ${notice}`);
  if (o.testList) {
    for (const id of unmatched) console.warn(`[vitest-disagg] ${o.testList}: no config matches ${id}`);
    console.warn(
      `[vitest-disagg] test list ${o.testList}: ${selected.length} of ${discovery.entries.length} selected`,
    );
  }
  const testTypes = new Set([...discovery.entries.map((e) => e.testType), 'disagg', 'wideep']);
  const typeTags = [...testTypes].map((name) => ({ name, description: `test_type ${name}` }));
  return {
    files: selected.map((e) => e.file),
    tags: [...CATEGORY_TAGS, ...typeTags],
    modules: testModules(o, selected),
  };
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
      ...(selection.files.length ? { dir: selection.modules.dir } : {}),
      // A test list that selects nothing must run nothing, not everything.
      include: selection.files.length ? selection.modules.include : ['__no_disagg_config__'],
      includeTaskLocation: true,
      tags: selection.tags,
      // Threads: Ctrl-C reaches only the main process, which cancels jobs; workers just wait on I/O.
      pool: 'threads',
      // One module graph per worker: the fixtures load once, not once per YAML file.
      isolate: false,
      maxWorkers: o.maxWorkers,
      // A folder module's tests run concurrently (see transform.ts): as many at once as one module holds.
      ...(selection.modules.kind === 'folder'
        ? { maxConcurrency: Math.max(5, selection.modules.largest) }
        : {}),
      hookTimeout: 10 * 60_000,
      sequence: { groupOrder },
    },
  };
}

/** One more than the highest `sequence.groupOrder` of the given project configs (0 when unset). */
export function groupOrderAfter(orders: Array<number | undefined>): number {
  return Math.max(0, ...orders.map((o) => o ?? 0)) + 1;
}
