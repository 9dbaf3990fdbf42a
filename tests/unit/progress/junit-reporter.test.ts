import { describe, expect, it } from 'vitest';
import { DisaggJUnitReporter, useDisaggJUnit } from '../../../src/plugin/junit-reporter.js';

describe('useDisaggJUnit', () => {
  it("replaces Vitest's junit reporter (bare or with options) and leaves every other reporter alone", () => {
    const own = { onInit() {} };
    const config = {
      reporters: [
        'default',
        'junit',
        ['junit', { outputFile: 'out/junit.xml', suiteName: 'disagg' }],
        ['json', {}],
        own,
      ],
    };
    useDisaggJUnit(config);
    const [def, bare, withOptions, json, mine] = config.reporters;
    expect(def).toBe('default');
    expect(bare).toBeInstanceOf(DisaggJUnitReporter);
    expect(withOptions).toBeInstanceOf(DisaggJUnitReporter);
    expect((withOptions as unknown as { options: object }).options).toMatchObject({
      outputFile: 'out/junit.xml',
      suiteName: 'disagg',
    });
    expect(json).toEqual(['json', {}]);
    expect(mine).toBe(own);
    // Twice (one configureVitest per project) changes nothing more.
    const again = [...config.reporters];
    useDisaggJUnit(config);
    expect(config.reporters).toEqual(again);
  });
});
