import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverConfigs, entryForFile } from '../../../src/config/index.js';
import { resolveConfigDir } from '../../../src/settings/resolve.js';
import { fixtures } from './helpers.js';

const tree = path.join(fixtures, 'tree');

describe('discoverConfigs', () => {
  it('finds <type>/<category>/*.yaml|yml and root files, sorted, with ids', () => {
    const r = discoverConfigs(tree);
    expect(r.entries.map((e) => [e.relFile, e.testId, e.testType, e.category])).toEqual([
      ['disagg/perf-sanity/sanity.yaml', 'disagg_perf-sanity_sanity', 'disagg', 'perf'],
      ['disagg/perf/good-perf.yml', 'disagg_perf_good-perf', 'disagg', 'perf'],
      ['disagg/stress/anchors.yaml', 'disagg_stress_anchors', 'disagg', 'stress'],
      ['disagg/stress/good-stress.yaml', 'disagg_stress_good-stress', 'disagg', 'stress'],
      ['root-stress.yaml', 'disagg_stress_root-stress', 'disagg', 'stress'],
      ['wideep/accuracy/good-accuracy.yaml', 'wideep_accuracy_good-accuracy', 'wideep', 'accuracy'],
    ]);
    expect(r.entries.every((e) => path.isAbsolute(e.file))).toBe(true);
  });

  it('reports left-out folders (templates, stray files) as one notice; perf-sanity is no longer left out', () => {
    const { notices } = discoverConfigs(tree);
    expect(notices).toHaveLength(1);
    expect(notices[0]).not.toContain('disagg/perf-sanity/ (');
    expect(notices[0]).toContain('templates/');
    expect(notices[0]).toContain('disagg/stray.yaml');
  });

  it('throws a clear error for a missing directory', () => {
    expect(() => discoverConfigs(path.join(fixtures, 'nope'))).toThrow(
      /Config directory not found: .*nope.*DISAGG_CONFIG_DIR/,
    );
  });
});

describe('resolveConfigDir', () => {
  it('prefers DISAGG_CONFIG_DIR, then the option, then stress-configs', () => {
    expect(resolveConfigDir('opt', { DISAGG_CONFIG_DIR: 'envdir' }, '/r')).toBe(path.resolve('/r/envdir'));
    expect(resolveConfigDir('opt', {}, '/r')).toBe(path.resolve('/r/opt'));
    expect(resolveConfigDir(undefined, { DISAGG_CONFIG_DIR: '' }, '/r')).toBe(
      path.resolve('/r/stress-configs'),
    );
    expect(resolveConfigDir(undefined, { DISAGG_CONFIG_DIR: '/abs' }, '/r')).toBe(path.resolve('/abs'));
  });
});

describe('entryForFile', () => {
  it('agrees with discovery inside the config dir', () => {
    for (const e of discoverConfigs(tree).entries) expect(entryForFile(e.file, tree)).toEqual(e);
  });

  it('infers type and category from folders, else disagg/stress', () => {
    expect(entryForFile('/x/wideep/perf/a.yaml').testId).toBe('wideep_perf_a');
    expect(entryForFile('/x/y/a.yml').testId).toBe('disagg_stress_a');
  });
});
