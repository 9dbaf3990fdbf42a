// The `test.projects` entry that stands for the root project: the root config file, when Vitest accepts
// its name as a project config (else the YAML project is injected instead, see projects.test.ts).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootProjectEntry } from '../../../src/plugin/root-project.js';

describe('rootProjectEntry', () => {
  it('is the config file, absolute, for every name Vitest accepts in test.projects', () => {
    for (const name of [
      'vitest.config.ts',
      'vite.config.js',
      'vitest.unit.config.ts',
      'vite.e2e.config.mjs',
      'vitest.config.unit.js',
    ]) {
      expect(rootProjectEntry(`/app/${name}`), name).toBe(`/app/${name}`);
    }
    expect(rootProjectEntry('/app/sub/../vitest.config.ts')).toBe('/app/vitest.config.ts');
    expect(rootProjectEntry('vitest.config.ts')).toBe(
      path.resolve('vitest.config.ts').split(path.sep).join('/'),
    );
  });

  it('is undefined without a config file or for a name Vitest would refuse as a project', () => {
    expect(rootProjectEntry(undefined)).toBeUndefined();
    expect(rootProjectEntry(false)).toBeUndefined();
    expect(rootProjectEntry('')).toBeUndefined();
    for (const name of ['ci.config.ts', 'list.config.mjs', 'vitestconfig.ts', 'my-vitest.config.ts']) {
      expect(rootProjectEntry(`/app/${name}`), name).toBeUndefined();
    }
  });
});
