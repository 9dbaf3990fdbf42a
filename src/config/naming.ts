// Test identity: the original framework's ids, so test lists and `-t` filters keep working.
import type { Category, ConfigEntry } from '../types.js';

/** `{testType}_{category}_{stem}`, e.g. `disagg_stress_deepseek-r1-fp4_1k1k_..._ccb-DEFAULT`. */
export function testIdFor(testType: string, category: Category, stem: string): string {
  return `${testType}_${category}_${stem}`;
}

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

/** `test_disagg.py::TestDisaggBenchmark::test_stress[<id>]` — what old test-list files contain. */
export function pytestNodeId(entry: Pick<ConfigEntry, 'category' | 'testId'>): string {
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
