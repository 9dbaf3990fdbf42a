// One-sided hypothesis-test threshold (TRT-LLM accuracy_core.py), on ONE scale: fractions 0–1.
// The original mixed 0–100 and 0–1 (actual ×100, sigma ≤ 1 left as is): with sigma ≤ 1 its gate always passed.
import type { ThresholdResult } from '../types.js';
import { normalQuantile } from './normal.js';

export interface HypothesisParams {
  alpha: number;
  beta: number;
  /** Standard deviation of one sample's score; > 1 means percentage points (50 ≡ 0.5). */
  sigma: number;
  num_samples: number;
}

/** Per-dataset defaults of the original (accuracy_validator.py DATASET_DEFAULTS), sigma in points. */
export const DATASET_DEFAULTS: Readonly<Record<string, HypothesisParams & { higher_is_better: boolean }>> = {
  aime25: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 30, higher_is_better: true },
  gsm8k: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 1319, higher_is_better: true },
  mmlu: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 4096, higher_is_better: true },
  humaneval: { alpha: 0.002, beta: 0.2, sigma: 15.08, num_samples: 164, higher_is_better: true },
  cnn_dailymail: { alpha: 0.002, beta: 0.2, sigma: 11.06, num_samples: 512, higher_is_better: true },
  gpqa_diamond: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 198, higher_is_better: true },
  gpqa_diamond_local: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 198, higher_is_better: true },
  json_mode_eval: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 100, higher_is_better: true },
  mmmu: { alpha: 0.05, beta: 0.2, sigma: 50, num_samples: 900, higher_is_better: true },
  passkey_retrieval_64k: { alpha: 0.5, beta: 0.2, sigma: 0, num_samples: 20, higher_is_better: true },
  passkey_retrieval_128k: { alpha: 0.5, beta: 0.2, sigma: 0, num_samples: 20, higher_is_better: true },
  zero_scrolls: { alpha: 0.002, beta: 0.2, sigma: 6.97, num_samples: 80, higher_is_better: true },
  'slimpajama-6b': { alpha: 0.01, beta: 0.2, sigma: 4.48, num_samples: 86, higher_is_better: false },
};

export const FALLBACK_DEFAULTS: HypothesisParams & { higher_is_better: boolean } = {
  alpha: 0.05,
  beta: 0.2,
  sigma: 50,
  num_samples: 1000,
  higher_is_better: true,
};

export function datasetDefaults(name: string): HypothesisParams & { higher_is_better: boolean } {
  return DATASET_DEFAULTS[name.toLowerCase()] ?? FALLBACK_DEFAULTS;
}

/** A value > 1 is a percentage (85 → 0.85); the one scale is fractions. */
export function toFraction(value: number): number {
  return value > 1 ? value / 100 : value;
}

export interface ThresholdInput {
  /** Expected (reference) score; > 1 is read as a percentage. */
  expected: number;
  numSamples: number;
  /** > 1 is read as percentage points. Default 50 points (Bernoulli worst case). */
  sigma?: number;
  alpha?: number;
  beta?: number;
  higherIsBetter?: boolean;
}

/**
 * threshold = ref ∓ |z_α|·s and theta (minimum detectable effect) = −(z_α + z_β)·s,
 * s = √(2σ²/n), all as fractions.
 */
export function computeThreshold(input: ThresholdInput): ThresholdResult {
  const alpha = input.alpha ?? FALLBACK_DEFAULTS.alpha;
  const beta = input.beta ?? FALLBACK_DEFAULTS.beta;
  const sigmaIn = input.sigma ?? FALLBACK_DEFAULTS.sigma;
  const n = input.numSamples;
  if (!Number.isFinite(input.expected) || input.expected < 0) {
    throw new RangeError(`expected value must be a number ≥ 0, got ${input.expected}`);
  }
  if (!(Number.isFinite(n) && n > 0)) throw new RangeError(`num_samples must be > 0, got ${n}`);
  if (!(Number.isFinite(sigmaIn) && sigmaIn >= 0)) throw new RangeError(`sigma must be ≥ 0, got ${sigmaIn}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got ${alpha}`);
  if (!(beta > 0 && beta < 1)) throw new RangeError(`beta must be between 0 and 1, got ${beta}`);
  const ref = toFraction(input.expected);
  const sigma = toFraction(sigmaIn);
  const scale = Math.sqrt((2 * sigma * sigma) / n);
  const zAlpha = normalQuantile(alpha);
  const zBeta = normalQuantile(beta);
  const theta = -(zAlpha + zBeta) * scale;
  const threshold = (input.higherIsBetter ?? true) ? ref + zAlpha * scale : ref - zAlpha * scale;
  return { threshold, theta };
}
