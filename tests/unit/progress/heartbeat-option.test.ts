import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/plugin/options.js';

describe('heartbeat option', () => {
  it('defaults to 5 minutes; DISAGG_HEARTBEAT wins over the option; 0 is off', () => {
    expect(resolveOptions({}, {}).heartbeatMs).toBe(300_000);
    expect(resolveOptions({ heartbeat: '30s' }, {}).heartbeatMs).toBe(30_000);
    expect(resolveOptions({ heartbeat: 2_000 }, {}).heartbeatMs).toBe(2_000);
    expect(resolveOptions({ heartbeat: '30s' }, { DISAGG_HEARTBEAT: '5s' }).heartbeatMs).toBe(5_000);
    expect(resolveOptions({}, { DISAGG_HEARTBEAT: '0' }).heartbeatMs).toBe(0);
  });
  it('a value that is no interval is an error naming the variable', () => {
    expect(() => resolveOptions({}, { DISAGG_HEARTBEAT: 'often' })).toThrow(/DISAGG_HEARTBEAT=often/);
    expect(() => resolveOptions({ heartbeat: 'often' }, {})).toThrow(/heartbeat: 'often'/);
  });
});
