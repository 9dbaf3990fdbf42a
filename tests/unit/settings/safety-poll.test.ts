import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../../src/errors.js';
import { resolveSettings } from '../../../src/settings/index.js';

describe('safetyPollSec / DISAGG_SAFETY_POLL', () => {
  it('defaults to 60 s; the option is seconds; the env var is seconds or an interval and wins', () => {
    expect(resolveSettings({}, {}).safetyPollMs).toBe(60_000);
    expect(resolveSettings({ safetyPollSec: 90 }, {}).safetyPollMs).toBe(90_000);
    expect(resolveSettings({ safetyPollSec: 90 }, { DISAGG_SAFETY_POLL: '30' }).safetyPollMs).toBe(30_000);
    expect(resolveSettings({}, { DISAGG_SAFETY_POLL: '2m' }).safetyPollMs).toBe(120_000);
    expect(resolveSettings({}, { DISAGG_SAFETY_POLL: '1.5' }).safetyPollMs).toBe(1_500);
  });

  it('rejects what is not a number of seconds of at least 1, naming where it was set', () => {
    expect(() => resolveSettings({}, { DISAGG_SAFETY_POLL: 'soon' })).toThrow(SettingsError);
    expect(() => resolveSettings({}, { DISAGG_SAFETY_POLL: 'soon' })).toThrow(/DISAGG_SAFETY_POLL/);
    expect(() => resolveSettings({}, { DISAGG_SAFETY_POLL: '0' })).toThrow(/at least 1/);
    expect(() => resolveSettings({ safetyPollSec: 0 }, {})).toThrow(/option safetyPollSec/);
  });
});
