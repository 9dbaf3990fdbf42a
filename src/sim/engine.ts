// Scheduling cores of the simulated workers. Both keep their own SIMULATED timeline anchored to the real
// clock (sim = real / timeScale) so timer jitter never accumulates: a late timer just processes more work
// in one go, it never slows the simulated GPU down. Work handed from one process to the next carries
// real-time stamps: a prefill starts when the request reached the router and the KV transfer runs from
// the prefill's end, not from when a loaded host got round to relaying them (every real ms of host latency
// is 1/timeScale simulated ms). Decoding starts when the gen worker has the request: its first token
// reaches the client then, so earlier decode steps would shorten TPOT.
import { performance } from 'node:perf_hooks';
import { decodeStepMs, prefillMs, tokensPerStep } from './latency-model.js';

export interface SimClock {
  readonly timeScale: number;
  /** Simulated ms since the clock was created. */
  simNow(): number;
  /** Real time now as a stamp that every process of the host reads alike (epoch ms, sub-ms precision). */
  stamp(): number;
  /** This clock's simulated time of a stamp (from any process). */
  simAt(stamp: number): number;
  /** The stamp of this clock's simulated time `sim`. */
  stampAt(sim: number): number;
}

export function createClock(timeScale: number): SimClock {
  const origin = performance.timeOrigin + performance.now();
  const stamp = (): number => performance.timeOrigin + performance.now();
  return {
    timeScale,
    simNow: () => (stamp() - origin) / timeScale,
    stamp,
    simAt: (s) => (s - origin) / timeScale,
    stampAt: (sim) => origin + sim * timeScale,
  };
}

/** Shortest real timer we arm: below ~2 ms Node timers are not precise anyway, and ticks cost CPU. */
const MIN_TICK_REAL_MS = 2;
/**
 * Shortest real interval between two stream flushes that finish nothing: tokens produced meanwhile go out
 * in one chunk, as a busy server's socket coalesces them. Finishes are still sent on time. Per-token
 * events cost the stack most of its CPU (3 processes touch each), and a stack that needs much CPU is
 * the first slowed down on a loaded machine, which showed as false perf alarms. The client spreads a
 * chunk's gap over its tokens, so TTFT, TPOT, ITL and E2EL keep their values.
 */
const MIN_FLUSH_REAL_MS = 10;
/** Safety bound on decode iterations processed by one tick (catch-up after a stall). */
const MAX_STEPS_PER_TICK = 100_000;

export interface IterInfo {
  iter: number;
  active: number;
  queued: number;
  stepMs: number;
  newTokens: number;
}

// ---------------------------------------------------------------------------------------------------

interface PrefillJob {
  tokens: number;
  /** Simulated time the request reached the stack. */
  arrival: number;
  /** Called with the simulated end time of its prefill. */
  resolve: (endSim: number) => void;
  reject: (e: Error) => void;
}

/**
 * Context (prefill) worker: FIFO queue, batches of at most `maxBatchSize` requests and `maxNumTokens`
 * tokens (a single longer request still runs alone), one batch at a time.
 */
export class PrefillEngine {
  private readonly queue: PrefillJob[] = [];
  private busyUntil = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private iter = 0;
  private stopped = false;

  constructor(
    private readonly clock: SimClock,
    private readonly opts: { tp: number; maxBatchSize: number; maxNumTokens: number; slowdown?: number },
    private readonly onIter?: (info: IterInfo) => void,
  ) {}

  /**
   * Prefills `tokens` prompt tokens; resolves with the simulated end time. `arrivalSim`: when the request
   * reached the stack (default now); a batch starts once its last member arrived and the worker is free.
   */
  prefill(tokens: number, arrivalSim?: number): Promise<number> {
    if (this.stopped) return Promise.reject(new Error('prefill engine stopped'));
    const now = this.clock.simNow();
    const arrival =
      arrivalSim === undefined || !Number.isFinite(arrivalSim) ? now : Math.min(arrivalSim, now);
    return new Promise((resolve, reject) => {
      this.queue.push({ tokens, arrival, resolve, reject });
      this.kick();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private kick(): void {
    if (this.running || this.queue.length === 0 || this.stopped) return;
    const batch: PrefillJob[] = [];
    let tokens = 0;
    let arrived = -Infinity;
    while (this.queue.length > 0 && batch.length < this.opts.maxBatchSize) {
      const next = this.queue[0] as PrefillJob;
      if (batch.length > 0 && tokens + next.tokens > this.opts.maxNumTokens) break;
      batch.push(this.queue.shift() as PrefillJob);
      tokens += next.tokens;
      arrived = Math.max(arrived, next.arrival);
    }
    const start = Math.max(arrived, this.busyUntil);
    const dur = prefillMs(tokens, this.opts.tp) * (this.opts.slowdown ?? 1);
    this.busyUntil = start + dur;
    this.running = true;
    this.iter++;
    this.onIter?.({
      iter: this.iter,
      active: batch.length,
      queued: this.queue.length,
      stepMs: dur,
      newTokens: tokens,
    });
    const delay = Math.max(0, (this.busyUntil - this.clock.simNow()) * this.clock.timeScale);
    const end = this.busyUntil;
    this.timer = setTimeout(() => {
      this.running = false;
      for (const j of batch) j.resolve(end);
      this.kick();
    }, delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const j of this.queue.splice(0)) j.reject(new Error('prefill engine stopped'));
  }
}

// ---------------------------------------------------------------------------------------------------

export interface DecodeSeq {
  /** Total output tokens including the first one (which came from the ctx worker). */
  target: number;
  /** Called with newly available tokens; `done` on the last call. `avgDecoded` = tokens per iteration. */
  onTokens(count: number, done: boolean, avgDecoded: number): void;
}

interface ActiveSeq {
  seq: DecodeSeq;
  g0: number;
  iter0: number;
  emitted: number;
}

/**
 * Generation (decode) worker with in-flight batching: at most `maxBatchSize` sequences decode together,
 * the rest wait in a queue. Each iteration costs decodeStepMs(batch) and gives every active sequence
 * tokensPerStep(mtp) tokens (fractional with MTP: the expected accepted draft length).
 */
export class DecodeEngine {
  /** Cumulative tokens per sequence since start: a sequence's progress is G - its g0. */
  private g = 0;
  private lastSim = 0;
  private iter = 0;
  private readonly active: ActiveSeq[] = [];
  private readonly waiting: DecodeSeq[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly tps: number;
  private nextFinishG = Infinity;
  private stopped = false;
  private inTick = false;

  constructor(
    private readonly clock: SimClock,
    private readonly opts: {
      tp: number;
      maxBatchSize: number;
      mtpLayers: number;
      streamInterval: number;
      slowdown?: number;
    },
    private readonly onIter?: (info: IterInfo) => void,
  ) {
    this.tps = tokensPerStep(opts.mtpLayers);
  }

  get activeCount(): number {
    return this.active.length;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  /**
   * A sequence whose KV cache is here: with a free slot it decodes from now on, else it waits for one.
   * (Never from an earlier stamp: its first token reaches the client now, and decoding steps credited
   * before that would shorten TPOT below the model's.)
   */
  add(seq: DecodeSeq): void {
    if (this.stopped) return;
    if (this.active.length < this.opts.maxBatchSize) this.admit(seq);
    else this.waiting.push(seq);
  }

  /** Drop a sequence whose client went away. */
  cancel(seq: DecodeSeq): void {
    const i = this.active.findIndex((a) => a.seq === seq);
    if (i >= 0) {
      this.active.splice(i, 1);
      this.recomputeNextFinish();
      this.admitWaiting();
    } else {
      const j = this.waiting.indexOf(seq);
      if (j >= 0) this.waiting.splice(j, 1);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.active.length = 0;
    this.waiting.length = 0;
  }

  private admit(seq: DecodeSeq): void {
    // An idle engine starts its timeline now; inside a tick the new sequence joins at the current step.
    if (this.active.length === 0 && !this.inTick) this.lastSim = Math.max(this.lastSim, this.clock.simNow());
    // The first token was produced by the ctx worker; it is released as soon as the gen worker schedules
    // the request, which is why TTFT includes the wait for a free batch slot.
    if (seq.target <= 1) {
      seq.onTokens(1, true, 1);
      return;
    }
    seq.onTokens(1, false, 0);
    this.active.push({ seq, g0: this.g, iter0: this.iter, emitted: 1 });
    this.recomputeNextFinish();
    this.schedule();
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.active.length < this.opts.maxBatchSize) {
      this.admit(this.waiting.shift() as DecodeSeq);
    }
  }

  private produced(a: ActiveSeq): number {
    return Math.min(a.seq.target, 1 + Math.floor(this.g - a.g0 + 1e-9));
  }

  private recomputeNextFinish(): void {
    let m = Infinity;
    for (const a of this.active) m = Math.min(m, a.g0 + a.seq.target - 1);
    this.nextFinishG = m;
  }

  /** Decode steps until something is visible outside: a chunk of stream_interval tokens, or a finish. */
  private stepsToNextFinish(): number {
    return Math.max(1, Math.ceil((this.nextFinishG - this.g) / this.tps));
  }

  /** Decode steps until a sequence has a chunk of stream_interval tokens to send. */
  private stepsToNextChunk(): number {
    let steps = Infinity;
    for (const a of this.active) {
      const need = Math.max(1, this.opts.streamInterval - (this.produced(a) - a.emitted));
      steps = Math.min(steps, Math.ceil(need / this.tps));
    }
    return Math.max(1, steps);
  }

  /** One decode iteration, slowed by the `simulator.slowdown` knob. */
  private stepMs(): number {
    return decodeStepMs(this.active.length, this.opts.tp, this.opts.mtpLayers) * (this.opts.slowdown ?? 1);
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.active.length === 0) return;
    const step = this.stepMs();
    // Wake only when a chunk or a finish is due: the tick catches up every step in between exactly, so
    // a coarser timer changes no timing, only the CPU cost (stream_interval 20 = 20× fewer wake-ups).
    const realUntil = (steps: number): number =>
      (this.lastSim + steps * step - this.clock.simNow()) * this.clock.timeScale;
    const wait = Math.min(
      realUntil(this.stepsToNextFinish()),
      Math.max(MIN_FLUSH_REAL_MS, realUntil(this.stepsToNextChunk())),
    );
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.tick();
      },
      Math.max(MIN_TICK_REAL_MS, wait),
    );
  }

  private tick(): void {
    const now = this.clock.simNow();
    this.inTick = true;
    for (let n = 0; n < MAX_STEPS_PER_TICK && this.active.length > 0; n++) {
      const step = this.stepMs();
      if (this.lastSim + step > now) break;
      this.lastSim += step;
      this.g += this.tps;
      this.iter++;
      this.onIter?.({
        iter: this.iter,
        active: this.active.length,
        queued: this.waiting.length,
        stepMs: step,
        newTokens: this.active.length * this.tps,
      });
      if (this.g + 1e-9 >= this.nextFinishG) this.finishDone();
    }
    this.inTick = false;
    for (const a of this.active) {
      const pending = this.produced(a) - a.emitted;
      if (pending >= this.opts.streamInterval) {
        a.emitted += pending;
        a.seq.onTokens(pending, false, 0);
      }
    }
    this.schedule();
  }

  private finishDone(): void {
    for (let i = this.active.length - 1; i >= 0; i--) {
      const a = this.active[i] as ActiveSeq;
      if (this.produced(a) < a.seq.target) continue;
      this.active.splice(i, 1);
      const iters = Math.max(1, this.iter - a.iter0);
      a.seq.onTokens(a.seq.target - a.emitted, true, (a.seq.target - 1) / iters);
    }
    this.recomputeNextFinish();
    this.admitWaiting();
  }
}
