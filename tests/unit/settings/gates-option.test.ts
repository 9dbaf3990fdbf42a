// The suite-wide default perf gates: the `gates` option of disagg({...}), none by default.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../../src/settings/index.js';

describe('gates option', () => {
  it('is passed through as the suite-wide default; none without it', () => {
    const gates = [{ metric: 'output_throughput', history: true }];
    expect(resolveSettings({ gates }, {}, os.tmpdir()).gates).toEqual(gates);
    expect(resolveSettings({}, {}, os.tmpdir()).gates).toEqual([]);
  });
});
