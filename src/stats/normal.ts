// Standard-normal quantile. simple-statistics' probit uses Winitzki's closed-form erf⁻¹, which is
// off by ~1e-3 at p = 0.05 (−1.64342 vs −1.64485): thresholds would miss the reference values by
// ~3e-5. Newton steps on its erf (Numerical Recipes erfc, relative error < 1.2e-7) fix that.
import { errorFunction, probit } from 'simple-statistics';

function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/** Φ⁻¹(p) for 0 < p < 1, accurate to ~1e-7 in the range alpha/beta live in. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be between 0 and 1 (exclusive), got ${p}`);
  if (p === 0.5) return 0;
  let z = probit(p);
  for (let i = 0; i < 4; i++) {
    const step = (normalCdf(z) - p) / normalPdf(z);
    z -= step;
    if (Math.abs(step) < 1e-12) break;
  }
  return z;
}
