// The simulated hardware: how long prefill, KV transfer and one decode iteration take, in SIMULATED
// milliseconds. Shapes follow what is seen on real deployments (prefill ~linear in tokens with a small
// quadratic attention term and near-linear TP speed-up; decode dominated by weight reads for small batches
// and by KV reads as the batch grows). Constants are round numbers, not calibrated to any GPU.

/** Per-layer MTP draft acceptance: layer i is accepted with probability ACCEPT^i. */
const MTP_ACCEPT = 0.8;
/** Extra cost of one MTP draft layer relative to a plain decode step. */
const MTP_LAYER_COST = 0.15;

/** Prefill time of a batch of `tokens` prompt tokens on a ctx worker with tensor-parallel size `tp`. */
export function prefillMs(tokens: number, tp: number): number {
  const t = Math.max(0, tokens);
  return 2 + (t * 0.4) / tp + (t * t * 2e-5) / tp;
}

/** KV-cache transfer ctx → gen for one request of `tokens` prompt tokens. */
export function kvTransferMs(tokens: number): number {
  return 1 + Math.max(0, tokens) * 0.002;
}

/**
 * One decode iteration of a gen worker running `active` sequences. Fixed cost (weights) shrinks with
 * sqrt(tp) because communication grows; the per-sequence cost (KV reads) shrinks linearly with tp.
 */
export function decodeStepMs(active: number, tp: number, mtpLayers: number): number {
  const base = 2 + 16 / Math.sqrt(tp) + (0.3 * Math.max(1, active)) / tp;
  return base * (1 + MTP_LAYER_COST * mtpLayers);
}

/** Expected tokens produced per sequence per iteration with `mtpLayers` draft layers (1 without MTP). */
export function tokensPerStep(mtpLayers: number): number {
  let t = 1;
  for (let i = 1; i <= mtpLayers; i++) t += MTP_ACCEPT ** i;
  return t;
}

/** Converts simulated ms to real ms. */
export function toRealMs(simMs: number, timeScale: number): number {
  return simMs * timeScale;
}
