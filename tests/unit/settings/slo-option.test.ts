// The suite-wide latency objectives: the `slo` option of disagg({...}), none by default; a bad value is
// an error naming the option and what to write.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../../src/settings/index.js';
import type { DisaggOptions } from '../../../src/settings/options.js';

const resolve = (slo: unknown) => resolveSettings({ slo } as DisaggOptions, {}, os.tmpdir());

describe('slo option', () => {
  it('is passed through; none without it', () => {
    expect(resolve({ ttft_ms: 500, tpot_ms: 50 }).slo).toEqual({ ttft_ms: 500, tpot_ms: 50 });
    expect(resolveSettings({}, {}, os.tmpdir()).slo).toBeUndefined();
  });

  it('rejects unknown keys, values that are not ms above 0, and an empty object', () => {
    expect(() => resolve({ ttft: 5 })).toThrow(
      /option slo\.ttft: unknown key; use ttft_ms, tpot_ms, e2el_ms/,
    );
    expect(() => resolve({ tpot_ms: 0 })).toThrow(/option slo\.tpot_ms: 0 is not a number of ms above 0/);
    expect(() => resolve({ e2el_ms: '9s' })).toThrow(/option slo\.e2el_ms: "9s"/);
    expect(() => resolve({})).toThrow(/option slo: states no objective/);
    expect(() => resolve([1])).toThrow(/option slo: must be an object/);
  });
});
