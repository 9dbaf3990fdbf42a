import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/threshold.js';
import { UsageError, type CliIO } from '../../../src/cli/io.js';

async function call(argv: string[]): Promise<string> {
  let out = '';
  const io: CliIO = { stdout: (t) => (out += t), stderr: () => undefined, env: {}, cwd: '/' };
  expect(await run(argv, io)).toBe(0);
  return out;
}

describe('disagg threshold', () => {
  it('--json gives threshold and theta as fractions', async () => {
    const out = JSON.parse(await call(['--expected-value', '0.85', '--num-samples', '1319', '--json'])) as {
      threshold: number;
      theta: number;
    };
    expect(Object.keys(out)).toEqual(['threshold', 'theta']);
    expect(Math.abs(out.threshold - 0.81797495)).toBeLessThan(1e-6);
    expect(Math.abs(out.theta - 0.04841129)).toBeLessThan(1e-6);
    const low = JSON.parse(
      await call([
        '--expected-value',
        '85',
        '--num-samples',
        '1319',
        '--sigma',
        '50',
        '--lower-is-better',
        '--json',
      ]),
    ) as { threshold: number };
    expect(Math.abs(low.threshold - 0.88202505)).toBeLessThan(1e-6);
    const small = JSON.parse(
      await call(['--expected-value', '0.85', '--num-samples', '100', '--sigma', '0.05', '--json']),
    ) as {
      threshold: number;
    };
    expect(Math.abs(small.threshold - 0.83836913)).toBeLessThan(1e-6);
  });

  it('prints readable text with a warning for a weak gate', async () => {
    const out = await call(['--expected-value', '0.85', '--num-samples', '100']);
    expect(out).toMatch(/threshold: 0.733691/);
    expect(out).toMatch(/theta: +0.175820/);
    expect(out).toMatch(/cannot detect a real regression smaller than 0.1758/);
  });

  it('bad usage throws UsageError', async () => {
    const io: CliIO = { stdout: () => undefined, stderr: () => undefined, env: {}, cwd: '/' };
    await expect(run(['--num-samples', '10'], io)).rejects.toThrow(UsageError);
    await expect(run(['--expected-value', 'abc', '--num-samples', '10'], io)).rejects.toThrow(
      /must be a number/,
    );
    await expect(run(['--expected-value', '0.8', '--num-samples', '0'], io)).rejects.toThrow(UsageError);
    await expect(run(['--expected-value', '0.8', '--num-samples', '10', '--what'], io)).rejects.toThrow(
      UsageError,
    );
  });
});
