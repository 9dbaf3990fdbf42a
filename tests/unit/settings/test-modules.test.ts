import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../../src/errors.js';
import { resolveSettings } from '../../../src/settings/resolve.js';

describe('testModules / DISAGG_TEST_MODULES', () => {
  it("is 'auto' by default; the env var overrides the option", () => {
    expect(resolveSettings({}, {}).testModules).toBe('auto');
    expect(resolveSettings({ testModules: 'config' }, {}).testModules).toBe('config');
    expect(resolveSettings({ testModules: 'config' }, { DISAGG_TEST_MODULES: 'folder' }).testModules).toBe(
      'folder',
    );
  });

  it('an unknown value is an error naming the variable and the choices', () => {
    expect(() => resolveSettings({}, { DISAGG_TEST_MODULES: 'dir' })).toThrow(SettingsError);
    expect(() => resolveSettings({}, { DISAGG_TEST_MODULES: 'dir' })).toThrow(/DISAGG_TEST_MODULES.*auto/s);
  });
});
