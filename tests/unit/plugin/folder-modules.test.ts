// Folder modules (testModules: folder): one generated module per <test_type>/<category>, rewritten only
// when its text changes, the modules of folders no longer selected removed, never shown to git.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeEntry } from '../../../src/config/discover.js';
import { folderModuleOf, folderModulesDir, writeFolderModules } from '../../../src/plugin/folder-modules.js';

describe('writeFolderModules', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'folder-modules-'));
  const configDir = path.join(root, 'configs');
  const entry = (type: string, category: 'perf' | 'stress', stem: string) =>
    makeEntry(path.join(configDir, type, category, `${stem}.yaml`), configDir, type, category);
  const dir = folderModulesDir(root, configDir);

  it('writes one module per folder under <root>/.vitest-disagg/<dir name>-<hash>, with its test count', () => {
    expect(path.relative(root, dir)).toMatch(/^\.vitest-disagg\/configs-[0-9a-f]{8}$/);
    const written = writeFolderModules(
      dir,
      [entry('disagg', 'perf', 'a'), entry('disagg', 'perf', 'b'), entry('wideep', 'stress', 'c')],
      '/r.ts',
    );
    expect(written).toEqual([
      { module: 'disagg/perf.mjs', tests: 2 },
      { module: 'wideep/stress.mjs', tests: 1 },
    ]);
    const perf = fs.readFileSync(path.join(dir, 'disagg/perf.mjs'), 'utf8');
    expect(perf).toContain('disaggTest("disagg_perf_a"');
    expect(perf).toContain('disaggTest("disagg_perf_b"');
    expect(fs.readFileSync(path.join(root, '.vitest-disagg/.gitignore'), 'utf8')).toMatch(/^\*$/m);
    expect(folderModuleOf(entry('wideep', 'stress', 'c'))).toBe('wideep/stress.mjs');
  });

  it('leaves an unchanged module untouched and removes the modules of folders no longer selected', () => {
    const file = path.join(dir, 'disagg/perf.mjs');
    const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    fs.utimesSync(file, past, past);
    writeFolderModules(dir, [entry('disagg', 'perf', 'a'), entry('disagg', 'perf', 'b')], '/r.ts');
    expect(Math.round(fs.statSync(file).mtimeMs)).toBe(past.getTime());
    expect(fs.existsSync(path.join(dir, 'wideep/stress.mjs'))).toBe(false);
    writeFolderModules(dir, [entry('disagg', 'perf', 'a')], '/r.ts');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('disagg_perf_b');
    // Written by rename: no temp file is left beside it.
    expect(fs.readdirSync(path.dirname(file))).toEqual(['perf.mjs']);
  });
});
