// Seeded, dependency-free randomness. Everything the simulator draws (lengths, answers, faults) comes
// from here so a run is reproducible from `simulator.seed`.

import { fnv1a } from '../util/fnv1a.js';

/** A string's FNV-1a 32-bit hash: seeds that are stable across runs and platforms. */
export const hashString = fnv1a;

/** mulberry32: tiny, fast, good enough for simulation draws. Returns floats in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One deterministic draw in [0, 1) keyed by a seed and a label (e.g. a question's text). */
export function drawFor(seed: number, key: string): number {
  return createRng(hashString(`${seed}:${key}`))();
}

/** Integer in [lo, hi] (inclusive). */
export function randInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}
