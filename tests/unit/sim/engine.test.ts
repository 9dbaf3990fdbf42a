// The simulated GPU timelines: work handed on late by a loaded host starts at its stamped time, so
// service times do not stretch with the relay's latency; streams are flushed at most every 10 real ms
// while finishes go out on time.
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
  const finishTimes = (engine: DecodeEngine, target: number, ready?: number) => {
    const seen: { finish?: number; calls: number } = { calls: 0 };
    engine.add(
      {
        target,
        onTokens: (_n, done) => {
          seen.calls++;
          if (done) seen.finish = now;
        },
      },
      ready,
    );
    return seen;
  };
  const opts = { tp: 8, maxBatchSize: 8, mtpLayers: 0, streamInterval: 1 };

  it('an idle engine decodes from the ready stamp: the relay delay does not add to the finish', () => {
    const engine = new DecodeEngine(clock, opts);
    advance(30);
    const stamped = finishTimes(engine, 51, 0);
    advance(1000);
    const step = decodeStepMs(1, 8, 0);
    // 50 decode steps from 0 (not from 30); the timer fires within 2 ms after the finish.
    expect(stamped.finish).toBeGreaterThanOrEqual(50 * step);
    expect(stamped.finish).toBeLessThanOrEqual(50 * step + 2);
    engine.stop();
  });

  it('a busy engine credits the steps it ran since the sequence was ready', () => {
    const engine = new DecodeEngine(clock, opts);
    const a = finishTimes(engine, 201);
    advance(40);
    const b = finishTimes(engine, 51, 10); // ready at 10, handed over at 40
    const c = finishTimes(engine, 51); // ready now (40)
    advance(2000);
    const lo = 50 * decodeStepMs(1, 8, 0);
    const hi = 50 * decodeStepMs(3, 8, 0);
    expect(a.finish).toBeDefined();
    // b finishes about 50 steps after 10 (within one step of rounding), c about 50 steps after 40.
    expect(b.finish).toBeGreaterThanOrEqual(10 + lo - hi / 50);
    expect(b.finish).toBeLessThanOrEqual(10 + hi + 2 * decodeStepMs(3, 8, 0));
    expect((c.finish ?? 0) - (b.finish ?? 0)).toBeGreaterThan(20);
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
