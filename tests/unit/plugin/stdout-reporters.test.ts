// The closing summary stays off stdout when a reporter prints its document there (JUnit or JSON
// without an output file, TAP): `vitest run --reporter=junit > junit.xml` must stay valid XML.
import { describe, expect, it } from 'vitest';
import { DisaggJUnitReporter } from '../../../src/plugin/junit-reporter.js';
import { stdoutTaken } from '../../../src/plugin/stdout-reporters.js';

describe('stdoutTaken', () => {
  it('is true for a document reporter without an output file', () => {
    expect(stdoutTaken(['junit'], undefined)).toBe(true);
    expect(stdoutTaken([['json', {}]], undefined)).toBe(true);
    expect(stdoutTaken(['default', 'tap'], { tap: 'x' })).toBe(true);
    expect(stdoutTaken([new DisaggJUnitReporter()], undefined)).toBe(true);
    // An output file for another reporter leaves this one on stdout.
    expect(stdoutTaken(['junit'], { json: 'r.json' })).toBe(true);
  });

  it('is false when each document goes to a file, or no reporter prints one', () => {
    expect(stdoutTaken(['default', 'verbose', 'dot'], undefined)).toBe(false);
    expect(stdoutTaken(['junit'], { junit: 'j.xml' })).toBe(false);
    expect(stdoutTaken(['junit', 'json'], 'all.out')).toBe(false);
    expect(stdoutTaken([['junit', { outputFile: 'j.xml' }]], undefined)).toBe(false);
    expect(stdoutTaken([new DisaggJUnitReporter({ outputFile: 'j.xml' })], undefined)).toBe(false);
  });
});
