// The discrete-event benchmark as physics: invariants checked as properties over many random valid
// deployments (seeded, so a failure names the config that broke it), plus noise, slowdown and the
// example configs' figures. Virtual time only: nothing here depends on the host's load.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { levelRequests } from '../../../src/sim/bench-client.js';
import { decodeIterMs, kvTransferMs, prefillMs, tokensPerStep } from '../../../src/sim/latency-model.js';
import { createRng, randInt } from '../../../src/sim/rng.js';
import { simulateLevel, type ServingModel } from '../../../src/sim/serving-sim.js';
import { resolveSettings, type SimSettings } from '../../../src/sim/settings.js';
import { servingModel, simulateSweep } from '../../../src/sim/virtual-bench.js';
import type { DisaggConfig } from '../../../src/types.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** A random valid deployment and benchmark; `i` seeds it. */
function randomConfig(i: number): DisaggConfig {
  const rng = createRng(1000 + i);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const genTp = pick([1, 2, 4, 8, 16]);
  return {
    benchmark: {
      multi_round: pick([4, 8, 16]),
      concurrency_list: '1 4 16 64',
      input_length: pick([128, 1024, 4096]),
      output_length: pick([64, 256, 1024]),
      benchmark_ratio: pick([0.8, 0.9, 1]),
      streaming: true,
    },
    hardware: { num_ctx_servers: randInt(rng, 1, 3), num_gen_servers: randInt(rng, 1, 2) },
    worker_config: {
      ctx: {
        tensor_parallel_size: pick([1, 2, 4, 8]),
        max_batch_size: pick([1, 4, 8]),
        max_num_tokens: pick([4096, 8192, 16384]),
        enable_attention_dp: rng() < 0.3,
      },
      gen: {
        tensor_parallel_size: genTp,
        max_batch_size: pick([4, 16, 32, 128]),
        enable_attention_dp: genTp > 1 && rng() < 0.5,
        stream_interval: pick([1, 2, 10]),
        speculative_config: { num_nextn_predict_layers: pick([0, 0, 1, 3]) },
      },
    },
    simulator: { seed: i, noise: 0 },
  };
}

const CONFIGS = 60;

function sweep(cfg: DisaggConfig, noiseSeed = 1): ReturnType<typeof simulateSweep> {
  return simulateSweep(resolveSettings(cfg, {}), noiseSeed);
}

describe('invariants over random deployments (noise 0)', () => {
  const cases = Array.from({ length: CONFIGS }, (_, i) => {
    const cfg = randomConfig(i);
    const s = resolveSettings(cfg, {});
    return { i, cfg, s, levels: simulateSweep(s, 1) };
  });
  const where = (i: number, c: number): string => `random config ${i} at concurrency ${c}`;

  it('every request succeeds and TTFT ≥ its prefill + KV transfer (+ the hops)', () => {
    for (const { i, s, levels } of cases) {
      for (const l of levels) {
        expect(l.metrics.failed, where(i, l.concurrency)).toBe(0);
        for (const r of l.results) {
          const own = prefillMs(r.promptLen, s.ctx.tp) <= r.prefillMs + 1e-9;
          expect(own, `${where(i, l.concurrency)}: its batch is at least its own prefill`).toBe(true);
          expect(r.transferMs).toBeCloseTo(kvTransferMs(r.promptLen), 9);
          expect(r.ttft, where(i, l.concurrency)).toBeGreaterThanOrEqual(r.prefillMs + r.transferMs);
        }
      }
    }
  });

  it('TPOT ≥ the shortest decode iteration it ran in ÷ the most tokens an iteration gives', () => {
    for (const { i, s, levels } of cases) {
      for (const l of levels) {
        for (const r of l.results) {
          if (r.outputLen <= 1) continue;
          const tpot = (r.latency - r.ttft) / (r.outputLen - 1);
          expect(tpot, where(i, l.concurrency)).toBeGreaterThanOrEqual(
            r.minIterMs / (1 + s.gen.mtpLayers) - 1e-9,
          );
          // Exactly the rest of the iteration running when it took its slot plus the iterations it decoded
          // in, spread over its tokens.
          expect(tpot * (r.outputLen - 1)).toBeCloseTo(r.joinWaitMs + r.decodeMs, 6);
          expect(r.joinWaitMs).toBeLessThanOrEqual(r.decodeMs);
        }
      }
    }
  });

  it('output throughput ≤ the capacity bound of the gen servers', () => {
    for (const { i, s, levels } of cases) {
      const ranks = s.gen.attentionDp ? s.gen.tp : 1;
      const slots = s.numGen * ranks * s.gen.maxBatchSize;
      // Hard bound: every slot full, every draft accepted, the cheapest possible iteration.
      const hard = (slots * (1 + s.gen.mtpLayers) * 1000) / decodeIterMs(0, 0, s.gen.tp, s.gen.mtpLayers);
      for (const l of levels) {
        const m = l.metrics;
        // The first token of each request is the ctx worker's, not a decode iteration's.
        expect(m.outputThroughput, where(i, l.concurrency)).toBeLessThanOrEqual(hard + m.requestThroughput);
        // Tighter, in expectation: at most min(concurrency, slots) sequences at E[tokens] per iteration,
        // each iteration at least as long as that many sequences' KV reads of their prompts.
        const inFlight = Math.min(l.concurrency, slots) / s.numGen;
        const shard = s.gen.attentionDp ? Math.ceil(inFlight / ranks) : inFlight / s.gen.tp;
        const minKv = shard * Math.floor(s.bench.inputLength * s.bench.ratio);
        const iter = decodeIterMs(shard, minKv, s.gen.tp, s.gen.mtpLayers);
        const expected = (s.numGen * inFlight * tokensPerStep(s.gen.mtpLayers) * 1000) / iter;
        expect(m.outputThroughput, where(i, l.concurrency)).toBeLessThanOrEqual(
          1.05 * expected + m.requestThroughput,
        );
      }
    }
  });

  it('at concurrency 1 there is no queue: p99 TTFT ≤ 1.5 × median TTFT', () => {
    // run_benchmark.sh multiplies concurrencies by num_gen_servers: only single-gen configs run at 1.
    const single = cases.filter(({ levels }) => levels[0]?.concurrency === 1);
    expect(single.length).toBeGreaterThan(CONFIGS / 3);
    for (const { i, levels } of single) {
      const m = levels[0]!.metrics;
      expect(m.ttft.p99, where(i, 1)).toBeLessThanOrEqual(1.5 * m.ttft.median);
    }
  });

  it("Little's law: concurrency = request throughput × mean E2EL, within 2 % (ramp-down aside)", () => {
    for (const { i, levels } of cases) {
      for (const l of levels) {
        const m = l.metrics;
        const inFlight = (m.requestThroughput * m.e2el.mean) / 1000;
        const c = Math.min(l.concurrency, l.numPrompts);
        // Never more in flight than the client allows; less only while the last requests drain.
        expect(inFlight, where(i, l.concurrency)).toBeLessThanOrEqual(c * (1 + 1e-9));
        // The drain (each client's last request ends at its own time) costs at most about half a
        // request per client: 1/(2·rounds) of the in-flight count.
        const rounds = l.numPrompts / c;
        expect(inFlight, where(i, l.concurrency)).toBeGreaterThanOrEqual(c * (1 - 1 / (2 * rounds) - 0.005));
      }
    }
  });

  it("Little's law within 2 % once the drain is small (32 rounds)", () => {
    for (const { i, cfg } of cases.slice(0, 15)) {
      const long = sweep({ ...cfg, benchmark: { ...cfg.benchmark, multi_round: 32 } });
      for (const l of long) {
        const inFlight = (l.metrics.requestThroughput * l.metrics.e2el.mean) / 1000;
        expect(Math.abs(inFlight / l.concurrency - 1), where(i, l.concurrency)).toBeLessThanOrEqual(0.02);
      }
    }
  });

  it('latencies do not fall as concurrency rises (in expectation: over 8 seeds with MTP)', () => {
    const means = (cfg: DisaggConfig, seeds: number): Array<{ c: number; e2el: number; tpot: number }> => {
      const runs = Array.from({ length: seeds }, (_, k) =>
        sweep({ ...cfg, simulator: { ...cfg.simulator, seed: 77 + k } }),
      );
      return runs[0]!.map((l, j) => ({
        c: l.concurrency,
        e2el: runs.reduce((a, r) => a + r[j]!.metrics.e2el.mean, 0) / seeds,
        tpot: runs.reduce((a, r) => a + r[j]!.metrics.tpot.mean, 0) / seeds,
      }));
    };
    for (const { i, cfg, s } of cases) {
      // MTP acceptance is random per token: with 4–16 requests at concurrency 1 the means wander by a
      // few percent, so their expectation is estimated over 8 seeds and held to 1.5 %. Without MTP 1 %:
      // once prefill is the bottleneck the gen batch stops growing, and which attention-DP rank is the
      // fullest (what an iteration waits for) wobbles by a fraction of a percent.
      const mtp = s.gen.mtpLayers > 0;
      const slack = mtp ? 0.985 : 0.99;
      const ls = means(cfg, mtp ? 8 : 1);
      for (let k = 1; k < ls.length; k++) {
        const lo = ls[k - 1]!;
        const hi = ls[k]!;
        expect(hi.e2el, where(i, hi.c)).toBeGreaterThanOrEqual(slack * lo.e2el);
        expect(hi.tpot, where(i, hi.c)).toBeGreaterThanOrEqual(slack * lo.tpot);
      }
    }
  });
});

describe('noise, slowdown and determinism', () => {
  const cfg: DisaggConfig = {
    benchmark: { multi_round: 8, concurrency_list: '1 8 64', input_length: 1024, output_length: 512 },
    worker_config: {
      ctx: { tensor_parallel_size: 4, max_batch_size: 4 },
      gen: { tensor_parallel_size: 8, max_batch_size: 16 },
    },
  };
  const metricsOf = (levels: ReturnType<typeof simulateSweep>): unknown => levels.map((l) => l.metrics);

  it('noise 0: any run seed gives the same numbers, to the bit', () => {
    const quiet = { ...cfg, simulator: { noise: 0 } };
    expect(metricsOf(sweep(quiet, 1))).toEqual(metricsOf(sweep(quiet, 987654)));
  });

  it('default noise: the same run seed repeats, another seed differs by about the noise', () => {
    const s = resolveSettings(cfg, {});
    expect(s.noise).toBe(0.01);
    expect(metricsOf(simulateSweep(s, 5))).toEqual(metricsOf(simulateSweep(s, 5)));
    const thr = (seed: number): number => simulateSweep(s, seed)[2]!.metrics.outputThroughput;
    const runs = Array.from({ length: 20 }, (_, k) => thr(k));
    const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
    const rel = Math.sqrt(runs.reduce((a, b) => a + (b - mean) ** 2, 0) / runs.length) / mean;
    expect(rel).toBeGreaterThan(0.002);
    expect(rel).toBeLessThan(0.03);
  });

  it('DISAGG_SIM_NOISE overrides simulator.noise; out-of-range values are refused', () => {
    expect(resolveSettings({ simulator: { noise: 0.02 } }, { DISAGG_SIM_NOISE: '0' }).noise).toBe(0);
    expect(() => resolveSettings({}, { DISAGG_SIM_NOISE: 'loud' })).toThrow(/DISAGG_SIM_NOISE/);
    expect(() => resolveSettings({ simulator: { noise: -1 } }, {})).toThrow(/simulator\.noise/);
  });

  it('slowdown ×1.10 costs 9.1 % throughput where the gen worker is the bottleneck', () => {
    const base = { ...cfg, simulator: { noise: 0 } };
    const fast = sweep(base)[2]!.metrics.outputThroughput;
    const slow = sweep({ ...base, simulator: { noise: 0, slowdown: 1.1 } })[2]!.metrics.outputThroughput;
    expect(slow / fast - 1).toBeCloseTo(1 / 1.1 - 1, 2);
  });

  it('a bigger batch queues less: TTFT past max_batch_size includes the wait for a slot', () => {
    const model: ServingModel = servingModel(resolveSettings({ ...cfg, simulator: { noise: 0 } }, {}));
    const s: SimSettings = resolveSettings(cfg, {});
    const reqs = levelRequests(s.bench, 64, 64 * 4, 1);
    const small = simulateLevel({ ...model, gen: { ...model.gen, maxBatchSize: 8 } }, reqs, 64, {
      seed: 1,
      noiseSeed: 1,
    });
    const big = simulateLevel({ ...model, gen: { ...model.gen, maxBatchSize: 64 } }, reqs, 64, {
      seed: 1,
      noiseSeed: 1,
    });
    const med = (t: typeof small): number =>
      t.requests.map((r) => r.ttft).sort((a, b) => a - b)[t.requests.length >> 1] as number;
    expect(med(small)).toBeGreaterThan(5 * med(big));
  });

  it('faults: http_500_rate fails that share of requests; a hang fails what follows after 6 h', () => {
    const s = resolveSettings({ ...cfg, simulator: { noise: 0, faults: { http_500_rate: 0.3 } } }, {});
    const levels = simulateSweep(s, 1);
    const all = levels.flatMap((l) => l.results);
    const failed = all.filter((r) => !r.success);
    expect(failed.length / all.length).toBeGreaterThan(0.2);
    expect(failed.length / all.length).toBeLessThan(0.4);
    expect(failed[0]!.error).toMatch(/^HTTP 500: /);
    const hung = simulateSweep(
      resolveSettings({ ...cfg, simulator: { faults: { hang: { after_s: 10 } } } }, {}),
      1,
    );
    const last = hung[hung.length - 1]!;
    expect(last.metrics.failed).toBeGreaterThan(0);
    expect(last.metrics.durationS).toBeGreaterThanOrEqual(6 * 3600);
  });

  it('a request longer than max_seq_len is refused with HTTP 400, as the live stack refuses it', () => {
    const short = { ...cfg, worker_config: { ...cfg.worker_config, gen: { max_seq_len: 1500 } } };
    const levels = sweep({ ...short, simulator: { noise: 0 } });
    for (const l of levels) {
      expect(l.metrics.completed).toBe(0);
      expect(l.results[0]!.error).toMatch(/^HTTP 400: context_length_exceeded \(1024 prompt \+ 512 output/);
    }
    expect(resolveSettings(cfg, {}).contextLength).toBe(262_144);
  });
});

describe('the example configs in stress-configs/', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.yaml')) files.push(p);
    }
  };
  walk(join(ROOT, 'stress-configs'));

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))(
    '%s: median TPOT ≥ 1 ms and ITL ≥ 0.5 ms everywhere, p99 TTFT ≤ 1.5 × median at concurrency 1',
    (_name, file) => {
      const levels = sweep(parse(readFileSync(file, 'utf8')) as DisaggConfig, 42);
      expect(levels.length).toBeGreaterThan(0);
      for (const l of levels) {
        expect(l.metrics.failed).toBe(0);
        expect(l.metrics.tpot.median, `concurrency ${l.concurrency}`).toBeGreaterThanOrEqual(1);
        expect(l.metrics.itl.median, `concurrency ${l.concurrency}`).toBeGreaterThanOrEqual(0.5);
        if (l.concurrency === 1) expect(l.metrics.ttft.p99).toBeLessThanOrEqual(1.5 * l.metrics.ttft.median);
      }
    },
  );
});
