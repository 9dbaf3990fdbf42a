// Test identity: the original framework's ids, so test lists and `-t` filters keep working.
import type { Category, ConfigEntry } from '../types.js';

/**
 * `{testType}_{category}_{stem}`, e.g. `disagg_stress_deepseek-r1-fp4_1k1k_..._ccb-DEFAULT`; a folder
 * such as `perf-sanity` stands in for the category (`disagg_perf-sanity_<stem>`).
 */
export function testIdFor(testType: string, category: string, stem: string): string {
  return `${testType}_${category}_${stem}`;
}

/**
 * Category folders that are not categories but hold configs of one: upstream's perf-sanity configs are
 * perf benchmarks (run by its separate perf-sanity harness), never stress tests.
 */
export const FOLDER_CATEGORIES: Readonly<Record<string, Category>> = { 'perf-sanity': 'perf' };

/** The pytest test method each category was collected under in the original. */
export function pytestMethodFor(category: Category): 'test_benchmark' | 'test_accuracy' | 'test_stress' {
  switch (category) {
    case 'perf':
      return 'test_benchmark';
    case 'accuracy':
      return 'test_accuracy';
    case 'stress':
      return 'test_stress';
  }
}

/** The pytest method of an entry: perf-sanity configs ran as upstream's `test_perf_sanity.py::test_e2e`. */
export function pytestMethodOf(entry: Pick<ConfigEntry, 'category' | 'folder'>): string {
  return entry.folder === 'perf-sanity' ? 'test_e2e' : pytestMethodFor(entry.category);
}

/**
 * `test_disagg.py::TestDisaggBenchmark::test_stress[<id>]` — what old test-list files contain; for a
 * perf-sanity config `perf/test_perf_sanity.py::test_e2e[disagg-<stem>]` (upstream puts the benchmark
 * mode between, `disagg-e2e-<stem>`; both select it).
 */
export function pytestNodeId(
  entry: Pick<ConfigEntry, 'category' | 'testId'> & Partial<Pick<ConfigEntry, 'folder' | 'stem'>>,
): string {
  if (entry.folder === 'perf-sanity' && entry.stem !== undefined)
    return `perf/test_perf_sanity.py::test_e2e[disagg-${entry.stem}]`;
  return `test_disagg.py::TestDisaggBenchmark::${pytestMethodFor(entry.category)}[${entry.testId}]`;
}

/** Vitest tags of a config's test: its category first (carries the timeout), then its test type. */
export function tagsFor(entry: Pick<ConfigEntry, 'category' | 'testType'>): string[] {
  return entry.testType === entry.category ? [entry.category] : [entry.category, entry.testType];
}

/** Default time limits per category (stress README: perf 2 h, accuracy 3 h, stress 4 h). */
export const CATEGORY_TIMEOUT_MS: Readonly<Record<Category, number>> = {
  perf: 2 * 3600_000,
  accuracy: 3 * 3600_000,
  stress: 4 * 3600_000,
};
