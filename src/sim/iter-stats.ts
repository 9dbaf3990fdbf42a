// Iteration statistics for `/metrics`, shaped like trtllm-serve's (a JSON list of the iterations since the
// last call, field names of the C++ IterationStats). Bounded: a server nobody polls keeps only the latest.
import type { IterInfo } from './engine.js';

/** Iterations kept between two `/metrics` calls (trtllm-serve also keeps a bounded queue). */
const MAX_KEPT = 1000;

export interface IterStat {
  iter: number;
  iterLatencyMS: number;
  timestamp: string;
  numActiveRequests: number;
  numQueuedRequests: number;
  maxNumActiveRequests: number;
  gpuMemUsage: number;
  cpuMemUsage: number;
  pinnedMemUsage: number;
  inflightBatchingStats: {
    numScheduledRequests: number;
    numContextRequests: number;
    numGenRequests: number;
    numCtxTokens: number;
    numPausedRequests: number;
    microBatchId: number;
    avgNumDecodedTokensPerIter: number;
  };
}

export class IterStats {
  private kept: IterStat[] = [];

  constructor(private readonly maxNumActiveRequests: number) {}

  /** One prefill (`phase` ctx) or decode (`gen`) iteration as the engine reported it. */
  record(info: IterInfo, phase: 'ctx' | 'gen'): void {
    const ctx = phase === 'ctx';
    this.kept.push({
      iter: info.iter,
      iterLatencyMS: info.stepMs,
      timestamp: new Date().toISOString(),
      numActiveRequests: info.active,
      numQueuedRequests: info.queued,
      maxNumActiveRequests: this.maxNumActiveRequests,
      // The simulator has no device: memory figures are reported as 0 rather than invented.
      gpuMemUsage: 0,
      cpuMemUsage: 0,
      pinnedMemUsage: 0,
      inflightBatchingStats: {
        numScheduledRequests: info.active,
        numContextRequests: ctx ? info.active : 0,
        numGenRequests: ctx ? 0 : info.active,
        numCtxTokens: ctx ? info.newTokens : 0,
        numPausedRequests: 0,
        microBatchId: 0,
        avgNumDecodedTokensPerIter: ctx || info.active === 0 ? 0 : info.newTokens / info.active,
      },
    });
    // Drop the older half at once: amortized O(1) per iteration.
    if (this.kept.length > 2 * MAX_KEPT) this.kept = this.kept.slice(-MAX_KEPT);
  }

  /** The iterations since the last call (at most MAX_KEPT), oldest first; like trtllm-serve, reading empties. */
  drain(): IterStat[] {
    const out = this.kept.slice(-MAX_KEPT);
    this.kept = [];
    return out;
  }
}
