// `--project` without `test.projects`: when the filter keeps `disagg` but not the root project, the
// YAML project must become a configured project (else Vitest finds none and says "No projects matched").
import { describe, expect, it } from 'vitest';
import { filterKeeps, projectPattern, yamlProjectOnlyByFilter } from '../../../src/plugin/project-filter.js';

describe('the project filter', () => {
  it('matches as Vitest does: whole name, * wildcard, ! negation, any case', () => {
    expect(projectPattern('disagg').test('disagg')).toBe(true);
    expect(projectPattern('disagg').test('disagg-x')).toBe(false);
    expect(projectPattern('DIS*').test('disagg')).toBe(true);
    expect(projectPattern('!disagg').test('disagg')).toBe(false);
    expect(projectPattern('!disagg').test('')).toBe(true);
    expect(projectPattern('a.b').test('axb')).toBe(false);
    expect(filterKeeps([], 'anything')).toBe(true);
    expect(filterKeeps(['unit', 'disagg'], 'disagg')).toBe(true);
    expect(filterKeeps(['unit'], '')).toBe(false);
  });

  it('makes the YAML project a configured one only when the filter keeps it and drops the root', () => {
    expect(yamlProjectOnlyByFilter({ project: ['disagg'] })).toBe(true);
    expect(yamlProjectOnlyByFilter({ project: 'dis*' })).toBe(true);
    expect(yamlProjectOnlyByFilter({ project: ['disagg'], name: { label: 'mine' } })).toBe(true);
    // No filter, or one that keeps the root: the root's configureVitest injects the YAML project.
    expect(yamlProjectOnlyByFilter({})).toBe(false);
    expect(yamlProjectOnlyByFilter({ project: [] })).toBe(false);
    expect(yamlProjectOnlyByFilter({ project: ['mine', 'disagg'], name: 'mine' })).toBe(false);
    expect(yamlProjectOnlyByFilter({ project: ['*'] })).toBe(false);
    expect(yamlProjectOnlyByFilter({ project: ['!disagg'] })).toBe(false);
    // A filter that leaves the YAML project out, and the user's own projects (ours is appended there).
    expect(yamlProjectOnlyByFilter({ project: ['unit'] })).toBe(false);
    expect(yamlProjectOnlyByFilter({ project: ['disagg'], projects: [{}] })).toBe(false);
  });
});
