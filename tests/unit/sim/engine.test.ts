// The simulated GPU timelines: a prefill handed on late by a loaded host starts at its stamped arrival,
// so its time does not stretch with the relay's latency; decoding starts when the sequence is added
// (its first token goes out then); streams are flushed at most every 10 real ms, finishes on time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DecodeEngine, PrefillEngine, type SimClock } from '../../../src/sim/engine.js';
import { decodeStepMs, prefillMs } from '../../../src/sim/latency-model.js';

// A hand-driven clock (time_scale 1: simulated ms = real ms) kept in step with Vitest's fake timers.
let now = 0;
const clock: SimClock = {
  timeScale: 1,
  simNow: () => now,
  stamp: () => now,
  simAt: (s) => s,
  stampAt: (s) => s,
};
function advance(ms: number): void {
  for (let i = 0; i < ms; i++) {
    now += 1;
    vi.advanceTimersByTime(1);
  }
}

beforeEach(() => {
  now = 0;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PrefillEngine', () => {
  it('an idle worker starts a request at its arrival stamp, not when the relay delivered it', async () => {
    const engine = new PrefillEngine(clock, { tp: 4, maxBatchSize: 4, maxNumTokens: 8192 });
    advance(20);
    const end = engine.prefill(256, 0); // reached the stack at 0, handed over at 20
    advance(100);
    await expect(end).resolves.toBeCloseTo(prefillMs(256, 4), 9);
    const late = engine.prefill(256); // no stamp: starts now (120)
    advance(100);
    await expect(late).resolves.toBeCloseTo(120 + prefillMs(256, 4), 9);
  });
});

describe('DecodeEngine', () => {
  const finishTimes = (engine: DecodeEngine, target: number) => {
    const seen: { first?: number; finish?: number; calls: number } = { calls: 0 };
    engine.add({
      target,
      onTokens: (_n, done) => {
        seen.calls++;
        seen.first ??= now;
        if (done) seen.finish = now;
      },
    });
    return seen;
  };
  const opts = { tp: 8, maxBatchSize: 8, mtpLayers: 0, streamInterval: 1 };

  it('a sequence added late decodes from when it was added: first token then, TPOT the model step', () => {
    const engine = new DecodeEngine(clock, opts);
    const a = finishTimes(engine, 201);
    advance(40);
    const b = finishTimes(engine, 51);
    advance(2000);
    expect(b.first).toBe(40);
    // 50 steps of 2 active sequences after 40, the timer firing within 2 ms of the finish.
    const steps = 50 * decodeStepMs(2, 8, 0);
    expect(b.finish).toBeGreaterThanOrEqual(40 + steps);
    expect(b.finish).toBeLessThanOrEqual(40 + steps + 2);
    expect(a.finish).toBeGreaterThan(b.finish ?? Infinity);
    engine.stop();
  });

  it('stream_interval 1: tokens are flushed at most every 10 ms, the finish on time', () => {
    const engine = new DecodeEngine(clock, opts);
    const s = finishTimes(engine, 101);
    advance(2000);
    const step = decodeStepMs(1, 8, 0);
    const total = 100 * step;
    expect(s.finish).toBeGreaterThanOrEqual(total);
    expect(s.finish).toBeLessThanOrEqual(total + 2);
    // The first token, then one chunk per ≥ 10 ms, then the finish.
    expect(s.calls).toBeLessThanOrEqual(2 + Math.ceil(total / 10));
    expect(s.calls).toBeGreaterThan(Math.floor(total / 20));
    engine.stop();
  });
});
