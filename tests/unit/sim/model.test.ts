import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sendRequest, type LevelResult } from '../../../src/sim/bench-client.js';
import { decodeIterMs, decodeStepMs, prefillMs, tokensPerStep } from '../../../src/sim/latency-model.js';
import { resolveSettings, type SimSettings } from '../../../src/sim/settings.js';
import { startInProcessStack, type Stack } from '../../../src/sim/stack.js';
import { simulateSweep } from '../../../src/sim/virtual-bench.js';
import type { DisaggConfig } from '../../../src/types.js';

describe('latency model', () => {
  it('prefill grows with tokens and shrinks with ctx TP', () => {
    expect(prefillMs(2048, 1)).toBeGreaterThan(prefillMs(1024, 1));
    expect(prefillMs(1024, 4)).toBeLessThan(prefillMs(1024, 1));
  });
  it('a decode step grows with active sequences and shrinks with gen TP; MTP speeds decode', () => {
    expect(decodeStepMs(64, 8, 0)).toBeGreaterThan(decodeStepMs(1, 8, 0));
    expect(decodeStepMs(64, 8, 0)).toBeLessThan(decodeStepMs(64, 1, 0));
    const perToken = (mtp: number): number => decodeStepMs(8, 8, mtp) / tokensPerStep(mtp);
    expect(perToken(3)).toBeLessThan(perToken(0) * 0.7);
  });
});

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'disagg-sim-unit-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function settings(extra: DisaggConfig = {}): SimSettings {
  return resolveSettings({
    benchmark: { input_length: 512, output_length: 200, multi_round: 2, streaming: true },
    worker_config: {
      ctx: { tensor_parallel_size: 4, max_batch_size: 8 },
      gen: { tensor_parallel_size: 8, max_batch_size: 4, stream_interval: 4 },
      ...(extra.worker_config ?? {}),
    },
    simulator: { time_scale: 0.1, seed: 3, noise: 0 },
    ...extra,
  });
}

async function withStack<T>(s: SimSettings, fn: (url: string) => Promise<T>): Promise<T> {
  const stack: Stack = await startInProcessStack(s, tmp());
  try {
    return await fn(stack.routerUrl);
  } finally {
    await stack.stop();
  }
}

describe('the benchmark in virtual time is honest', () => {
  const level = (st: SimSettings, c: number): LevelResult =>
    simulateSweep({ ...st, bench: { ...st.bench, concurrencies: [c] } }, 1)[0]!;

  it('TTFT rises past gen max_batch_size and throughput grows until saturation', () => {
    const s = settings();
    const m = (c: number): LevelResult['metrics'] => level(s, c).metrics;
    // Below max_batch_size (4) requests start decoding at once; above it they queue for a slot: the
    // second wave of 4 waits for the first (199 decode iterations).
    const wave = 199 * decodeStepMs(4, 8, 0);
    expect(m(8).ttft.median).toBeGreaterThan(m(2).ttft.median + 0.3 * wave);
    expect(m(16).ttft.median).toBeGreaterThan(m(8).ttft.median);
    expect(m(2).outputThroughput).toBeGreaterThan(1.8 * m(1).outputThroughput);
    expect(m(4).outputThroughput).toBeGreaterThan(1.6 * m(2).outputThroughput);
    // Past max_batch_size the batch is full: doubling concurrency adds no throughput (but for the
    // ramp-up and drain, a smaller share of a longer run)…
    expect(m(16).outputThroughput).toBeLessThan(1.05 * m(8).outputThroughput);
    // …which sits just under the model's ceiling: a full batch of 4 every decode iteration.
    const ceiling = (4 * 1000) / decodeIterMs(4 / 8, (4 * 512) / 8, 8, 0);
    expect(m(16).outputThroughput).toBeLessThan(ceiling + m(16).requestThroughput);
    expect(m(16).outputThroughput).toBeGreaterThan(0.85 * ceiling);
    // TPOT is the modelled decode iteration at 4 active (tp 8), ITL one chunk of stream_interval 4.
    const iter4 = decodeIterMs(4 / 8, (4 * 600) / 8, 8, 0);
    expect(m(4).tpot.median).toBeGreaterThan(0.97 * iter4);
    expect(m(4).tpot.median).toBeLessThan(1.05 * iter4);
    expect(m(4).itl.median).toBeCloseTo(4 * m(4).tpot.median, 0);
  });

  it('MTP lowers TPOT and ctx TP lowers TTFT for long prompts', () => {
    const one = (st: SimSettings, inLen: number): { ttft: number; tpot: number } => {
      const m = level({ ...st, bench: { ...st.bench, inputLength: inLen, outputLength: 300 } }, 1).metrics;
      return { ttft: m.ttft.median, tpot: m.tpot.median };
    };
    const base = one(settings(), 64);
    const mtp = one(
      settings({
        worker_config: {
          gen: {
            tensor_parallel_size: 8,
            max_batch_size: 4,
            speculative_config: { num_nextn_predict_layers: 3 },
          },
        },
      }),
      64,
    );
    expect(mtp.tpot).toBeLessThan(0.75 * base.tpot);
    const slowCtx = one(settings({ worker_config: { ctx: { tensor_parallel_size: 1 } } }), 8000);
    const fastCtx = one(settings({ worker_config: { ctx: { tensor_parallel_size: 8 } } }), 8000);
    expect(fastCtx.ttft).toBeLessThan(0.5 * slowCtx.ttft);
  });
});

describe('simulated stack (in-process) serves', () => {
  const s = settings();

  it('serves non-streaming requests, /health and /v1/models', async () => {
    await withStack(s, async (url) => {
      const agent = new http.Agent({ keepAlive: true });
      const r = await sendRequest(
        { url, model: s.modelPath, timeScale: s.timeScale, agent, timeoutMs: 30_000 },
        'a b c',
        3,
        20,
        false,
      );
      agent.destroy();
      expect(r).toMatchObject({ success: true, outputLen: 20 });
      expect(r.ttft).toBe(r.latency);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data[0]?.id).toBe('sim-model');
    });
  });
});
