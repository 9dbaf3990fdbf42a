// Which tests count as selected: a test list must select YAML tests; Vitest's own `-t`/`--tags-filter`
// may rightly select only hand-written tests of another project.
import { describe, expect, it } from 'vitest';
import type { TestModule } from 'vitest/node';
import { selectedTests } from '../../../src/plugin/empty-selection.js';
import { DISAGG_PROJECT } from '../../../src/plugin/project.js';

function mod(project: string, modes: string[]): TestModule {
  const tests = modes.map((mode) => ({ options: { mode } }));
  return { project: { name: project }, children: { allTests: () => tests } } as unknown as TestModule;
}

describe('selectedTests', () => {
  const modules = [mod(DISAGG_PROJECT, ['skip', 'skip']), mod('unit', ['run', 'skip'])];

  it('counts only YAML tests for a test list', () => {
    expect(selectedTests(modules, true)).toBe(0);
    expect(selectedTests([...modules, mod(DISAGG_PROJECT, ['run'])], true)).toBe(1);
  });

  it("counts every project's tests for -t / --tags-filter", () => {
    expect(selectedTests(modules, false)).toBe(1);
    expect(selectedTests([mod(DISAGG_PROJECT, ['skip']), mod('unit', ['skip'])], false)).toBe(0);
  });
});
