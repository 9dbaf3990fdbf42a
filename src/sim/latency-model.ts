// The simulated hardware: how long prefill, KV transfer and one decode iteration take, in SIMULATED
// milliseconds. Both the discrete-event benchmark (serving-sim.ts) and the live HTTP stack (engine.ts)
// take their service times from here, so the two never disagree. The constants are round numbers, not a
// calibration of any GPU; each says which real deployment shape it follows.

/**
 * Prefill is compute-bound: a fixed launch cost per batch, a per-token cost (the MLPs and projections)
 * and a per-request quadratic attention term, all split over the worker's `tp` GPUs. Shape: a 1k-token
 * prompt on 4 GPUs ≈ 0.1 s, an 8k prompt on 8 GPUs ≈ 0.6 s, as on FP4/FP8 MoE deployments of today.
 */
export const PREFILL_LAUNCH_MS = 2;
export const PREFILL_MS_PER_TOKEN = 0.4;
export const PREFILL_ATTENTION_MS_PER_TOKEN2 = 2e-5;

/** KV-cache transfer ctx → gen for one request: a setup cost plus NVLink/IB-class bandwidth per token. */
export const KV_SETUP_MS = 1;
export const KV_MS_PER_TOKEN = 0.002;

/**
 * A decode iteration is bandwidth-bound. Fixed part: weight reads, shrinking with sqrt(tp) because
 * the all-reduce / all-to-all grows with tp (DECODE_FIXED_MS + DECODE_WEIGHTS_MS / sqrt(tp)). Per
 * sequence: KV reads, growing with the sequence's context (DECODE_SEQ_MS + DECODE_KV_MS_PER_1K per 1k
 * tokens). With attention TP the per-sequence part is split over tp GPUs; with attention DP each rank
 * holds its own sequences and the iteration waits for the busiest rank (MoE all-to-all is a barrier).
 */
export const DECODE_FIXED_MS = 2;
export const DECODE_WEIGHTS_MS = 16;
export const DECODE_SEQ_MS = 0.2;
export const DECODE_KV_MS_PER_1K = 0.05;

/** MTP: draft layer i is accepted if layer i−1 was, with this probability (DeepSeek-R1 reports 0.8–0.9). */
export const MTP_ACCEPT = 0.8;
/** Extra cost of one MTP draft layer relative to a plain decode iteration. */
export const MTP_LAYER_COST = 0.15;

/** One HTTP hop between processes on a node (client → router → worker): loopback-class. */
export const HOP_MS = 0.2;

/** Prefill of one batch: `tokens` in all, `sumSquares` = Σ len² over its requests. */
export function prefillBatchMs(tokens: number, sumSquares: number, tp: number): number {
  const t = Math.max(0, tokens);
  return PREFILL_LAUNCH_MS + (t * PREFILL_MS_PER_TOKEN + sumSquares * PREFILL_ATTENTION_MS_PER_TOKEN2) / tp;
}

/** Prefill of a single request of `tokens` prompt tokens on a ctx worker with tensor-parallel size `tp`. */
export function prefillMs(tokens: number, tp: number): number {
  const t = Math.max(0, tokens);
  return prefillBatchMs(t, t * t, tp);
}

/** KV-cache transfer ctx → gen for one request of `tokens` prompt tokens. */
export function kvTransferMs(tokens: number): number {
  return KV_SETUP_MS + Math.max(0, tokens) * KV_MS_PER_TOKEN;
}

/**
 * One decode iteration. `seqs`/`kvTokens`: the sequences and their context tokens on the busiest
 * attention shard (the whole batch ÷ tp with attention TP; the fullest rank with attention DP).
 */
export function decodeIterMs(seqs: number, kvTokens: number, tp: number, mtpLayers: number): number {
  const base =
    DECODE_FIXED_MS +
    DECODE_WEIGHTS_MS / Math.sqrt(tp) +
    DECODE_SEQ_MS * Math.max(0, seqs) +
    (DECODE_KV_MS_PER_1K * Math.max(0, kvTokens)) / 1000;
  return base * (1 + MTP_LAYER_COST * mtpLayers);
}

/** Context tokens assumed per sequence by the live stack, which does not track them. */
const TYPICAL_CONTEXT = 2000;

/** One decode iteration of `active` sequences with attention TP (the live HTTP stack's view). */
export function decodeStepMs(active: number, tp: number, mtpLayers: number): number {
  const a = Math.max(1, active);
  return decodeIterMs(a / tp, (a * TYPICAL_CONTEXT) / tp, tp, mtpLayers);
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
