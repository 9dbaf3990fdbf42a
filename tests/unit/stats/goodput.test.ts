// Goodput and SLO attainment on hand-computed per-request data, the result JSON reader's derived
// latencies, and the fallback to the log's own "Request goodput" line.
import { describe, expect, it } from 'vitest';
import { benchRequestsOf } from '../../../src/parsers/bench-requests.js';
import { metricDirection, metricUnit } from '../../../src/stats/direction.js';
import { evaluateGates } from '../../../src/stats/gates.js';
import { goodputFromLog, goodputOf, hasSlo, meetsSlo, sloText } from '../../../src/stats/goodput.js';

// Six requests over 2 s. SLO: TTFT ≤ 100 ms, TPOT ≤ 20 ms.
//   a: 80 / 15          → good
//   b: 100 / 20         → good (the limit itself meets it)
//   c: 120 / 10         → TTFT too slow
//   d: 50 / 25          → TPOT too slow
//   e: 60 / (one token) → no TPOT: met, as vLLM takes it as 0 → good
//   f: failed           → never good
// good = 3 of 6 → goodput 1.5 req/s, attainment 50 %.
const requests = [
  { ok: true, ttftMs: 80, tpotMs: 15, e2elMs: 1000 },
  { ok: true, ttftMs: 100, tpotMs: 20, e2elMs: 1200 },
  { ok: true, ttftMs: 120, tpotMs: 10, e2elMs: 900 },
  { ok: true, ttftMs: 50, tpotMs: 25, e2elMs: 1500 },
  { ok: true, ttftMs: 60, e2elMs: 60 },
  { ok: false },
];

describe('goodputOf', () => {
  it('counts a request good when it succeeded and meets every stated objective', () => {
    expect(goodputOf(requests, { ttft_ms: 100, tpot_ms: 20 }, 2)).toEqual({
      goodput: 1.5,
      attainment: 50,
      good: 3,
      total: 6,
    });
  });

  it('only the stated objectives count: E2EL ≤ 1000 ms alone', () => {
    // a (1000), c (900), e (60) meet it; f failed.
    expect(goodputOf(requests, { e2el_ms: 1000 }, 3)).toMatchObject({ good: 3, goodput: 1, attainment: 50 });
  });

  it('a successful request missing a stated TTFT or E2EL does not meet it; a missing TPOT does', () => {
    expect(meetsSlo({ ok: true, tpotMs: 5 }, { ttft_ms: 100 })).toBe(false);
    expect(meetsSlo({ ok: true, ttftMs: 5 }, { e2el_ms: 100 })).toBe(false);
    expect(meetsSlo({ ok: true, ttftMs: 5 }, { tpot_ms: 1 })).toBe(true);
    expect(meetsSlo({ ok: false, ttftMs: 5, tpotMs: 1, e2elMs: 10 }, { ttft_ms: 100 })).toBe(false);
  });

  it('no request and no duration give 0, not NaN', () => {
    expect(goodputOf([], { ttft_ms: 1 }, 0)).toEqual({ goodput: 0, attainment: 0, good: 0, total: 0 });
  });

  it('hasSlo and sloText', () => {
    expect(hasSlo(undefined)).toBe(false);
    expect(hasSlo({})).toBe(false);
    expect(hasSlo({ tpot_ms: 5 })).toBe(true);
    expect(sloText({ ttft_ms: 500, e2el_ms: 9000 })).toBe('TTFT ≤ 500 ms, E2EL ≤ 9000 ms');
  });
});

describe('benchRequestsOf (result JSON per-request arrays)', () => {
  it('derives E2EL = TTFT + ITLs and TPOT = ITLs ÷ (tokens − 1); failed and one-token requests as documented', () => {
    const data = benchRequestsOf({
      duration: 4,
      ttfts: [0.1, 0.2, 0, 0.05],
      itls: [[0.01, 0.02, 0.03], [0.04], [], []],
      output_lens: [4, 2, 0, 1],
      errors: ['', '', 'HTTP 500', ''],
    });
    expect(data?.durationS).toBe(4);
    const [a, b, c, d] = data?.requests ?? [];
    expect(a.ok).toBe(true);
    expect(a.ttftMs).toBeCloseTo(100);
    expect(a.e2elMs).toBeCloseTo(160);
    expect(a.tpotMs).toBeCloseTo(20);
    expect(b.tpotMs).toBeCloseTo(40);
    expect(b.e2elMs).toBeCloseTo(240);
    expect(c).toEqual({ ok: false });
    expect(d.ok).toBe(true);
    expect(d.tpotMs).toBeUndefined();
    // SLO TTFT ≤ 150 ms, TPOT ≤ 30 ms: a and d (no TPOT) are good, b is too slow per token, c failed.
    expect(goodputOf(data?.requests ?? [], { ttft_ms: 150, tpot_ms: 30 }, 4)).toEqual({
      goodput: 0.5,
      attainment: 50,
      good: 2,
      total: 4,
    });
  });

  it('takes e2els/tpots arrays as written; no per-request data is undefined', () => {
    const data = benchRequestsOf({
      duration: 1,
      ttfts: [0.1],
      e2els: [2],
      tpots: [0.005],
      output_lens: [10],
    });
    expect(data?.requests[0]).toEqual({ ok: true, ttftMs: 100, e2elMs: 2000, tpotMs: 5 });
    expect(benchRequestsOf({ duration: 1, completed: 3 })).toBeUndefined();
    expect(benchRequestsOf([1, 2])).toBeUndefined();
  });
});

describe('goodputFromLog', () => {
  it('uses the printed goodput; attainment = goodput × duration ÷ all requests', () => {
    // 40 requests in 10 s, 2 failed; goodput 3.00 req/s → 30 good → 75 %.
    const r = goodputFromLog({
      request_goodput: 3,
      duration_s: 10,
      successful_requests: 38,
      failed_requests: 2,
      request_throughput: 3.8,
    });
    expect(r).toEqual({ goodput: 3, attainment: 75, good: 30, total: 40 });
  });

  it('without the line there is nothing', () => {
    expect(goodputFromLog({ request_throughput: 3 })).toBeUndefined();
  });
});

describe('goodput and slo_attainment as gate metrics (higher is better)', () => {
  it('a limit is a floor for both', () => {
    expect(metricDirection('goodput')).toBe('higher');
    expect(metricDirection('slo_attainment')).toBe('higher');
    expect(metricUnit('goodput')).toBe('req/s');
    expect(metricUnit('slo_attainment')).toBe('%');
    const measured = { '4': { goodput: 2.5, slo_attainment: 85 }, '8': { goodput: 3.5, slo_attainment: 95 } };
    const verdicts = evaluateGates(
      [
        { metric: 'slo_attainment', limit: 90 },
        { metric: 'goodput', limit: 3 },
      ],
      measured,
    );
    expect(verdicts.map((v) => [v.metric, v.concurrency, v.passed])).toEqual([
      ['slo_attainment', 4, false],
      ['slo_attainment', 8, true],
      ['goodput', 4, false],
      ['goodput', 8, true],
    ]);
  });
});
