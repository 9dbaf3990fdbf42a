// `disagg threshold --expected-value X --num-samples N [--sigma S] [--alpha A] [--beta B]
// [--lower-is-better] [--json]`: the accuracy gate's threshold and theta, as fractions 0–1.
import { computeThreshold, FALLBACK_DEFAULTS } from '../stats/threshold.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIO } from './io.js';

export const usage =
  'usage: disagg threshold --expected-value X --num-samples N [--sigma S] [--alpha A] [--beta B] ' +
  '[--lower-is-better] [--json]\n  values > 1 are percentages (85 = 0.85); sigma > 1 is in points (50 = 0.5)';

function num(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required\n${usage}`);
    return fallback;
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got '${text}'`);
  return n;
}

export const run: CliCommand = async (argv: string[], io: CliIO): Promise<number> => {
  const { values } = parseCommandArgs(argv, usage, {
    'expected-value': { type: 'string' },
    'num-samples': { type: 'string' },
    sigma: { type: 'string' },
    alpha: { type: 'string' },
    beta: { type: 'string' },
    'lower-is-better': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (values.help === true) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  const expected = num('expected-value', values['expected-value']);
  const numSamples = num('num-samples', values['num-samples']);
  const sigma = num('sigma', values.sigma, FALLBACK_DEFAULTS.sigma);
  const alpha = num('alpha', values.alpha, FALLBACK_DEFAULTS.alpha);
  const beta = num('beta', values.beta, FALLBACK_DEFAULTS.beta);
  const higherIsBetter = values['lower-is-better'] !== true;
  let result;
  try {
    result = computeThreshold({ expected, numSamples, sigma, alpha, beta, higherIsBetter });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.json === true) {
    io.stdout(`${JSON.stringify({ threshold: result.threshold, theta: result.theta })}\n`);
    return 0;
  }
  const side = higherIsBetter ? 'at least' : 'at most';
  io.stdout(
    `threshold: ${result.threshold.toFixed(6)} (a run passes with a score ${side} this)\n` +
      `theta:     ${result.theta.toFixed(6)} (smallest real change detected with ${Math.round((1 - beta) * 100)}% power)\n` +
      (result.theta > 0.05
        ? `warning: this gate cannot detect a real regression smaller than ${result.theta.toFixed(4)}\n`
        : ''),
  );
  return 0;
};
