import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLevel, sendRequest, benchPrompt } from '../../../src/sim/bench-client.js';
import { decodeStepMs, prefillMs, tokensPerStep } from '../../../src/sim/latency-model.js';
import { resolveSettings, type SimSettings } from '../../../src/sim/settings.js';
import { startInProcessStack, type Stack } from '../../../src/sim/stack.js';
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
    // 0.1: ten times faster than real time, yet HTTP overheads stay small against the modelled latencies.
    simulator: { time_scale: 0.1, seed: 3 },
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

describe('simulated stack (in-process) is honest', () => {
  let s: SimSettings;
  beforeAll(() => {
    s = settings();
  });

  it('TTFT rises past gen max_batch_size and throughput grows until saturation', async () => {
    const levels = await withStack(s, async (url) => {
      const agent = new http.Agent({ keepAlive: true });
      const opts = { url, model: s.modelPath, timeScale: s.timeScale, agent, timeoutMs: 30_000 };
      const out = [];
      for (const c of [1, 2, 4, 8, 16]) out.push(await runLevel(opts, s.bench, c, c * 2, 1));
      agent.destroy();
      return out;
    });
    const m = (c: number): (typeof levels)[number]['metrics'] =>
      levels.find((l) => l.concurrency === c)!.metrics;
    for (const l of levels) expect(l.metrics.failed).toBe(0);
    // Below max_batch_size (4) requests start decoding at once; above it they queue for a slot: the
    // second wave of 4 waits for the first (199 decode steps), so the median of the 16 TTFTs lies about
    // half a wave above the unqueued TTFT. (Not a ratio of TTFTs: TTFT at low concurrency is mostly host
    // latency, which swings with the machine's load.)
    const wave = 199 * decodeStepMs(4, 8, 0);
    expect(m(8).ttft.median).toBeGreaterThan(m(2).ttft.median + 0.3 * wave);
    expect(m(16).ttft.median).toBeGreaterThan(m(8).ttft.median);
    // Throughput grows with concurrency while the batch fills, then saturates.
    // (Factors stay modest: real-time HTTP overhead is magnified by 1/time_scale on a loaded machine.)
    expect(m(2).outputThroughput).toBeGreaterThan(1.3 * m(1).outputThroughput);
    expect(m(4).outputThroughput).toBeGreaterThan(1.15 * m(2).outputThroughput);
    expect(m(8).outputThroughput).toBeGreaterThan(0.9 * m(4).outputThroughput);
    // Past max_batch_size (4) the batch is full: doubling concurrency no longer adds throughput.
    expect(m(16).outputThroughput).toBeLessThan(1.25 * m(8).outputThroughput);
    // …and never beats the model's ceiling: a full batch of 4 every decode step.
    const ceiling = (4 * 1000) / decodeStepMs(4, 8, 0);
    expect(m(16).outputThroughput).toBeLessThan(1.1 * ceiling);
    expect(m(16).outputThroughput).toBeGreaterThan(0.7 * ceiling);
    // TPOT is the modelled decode step (7.9 sim ms at 4 active, tp 8), not the timer granularity.
    expect(m(4).tpot.median).toBeGreaterThan(6);
    expect(m(4).tpot.median).toBeLessThan(16);
    expect(m(4).itl.mean).toBeGreaterThan(5);
  }, 60_000);

  it('MTP lowers TPOT and ctx TP lowers TTFT for long prompts', async () => {
    const one = async (st: SimSettings, inLen: number): Promise<{ ttft: number; tpot: number }> =>
      withStack(st, async (url) => {
        const agent = new http.Agent({ keepAlive: true });
        const opts = { url, model: st.modelPath, timeScale: st.timeScale, agent, timeoutMs: 30_000 };
        const r = await sendRequest(opts, benchPrompt(inLen), inLen, 300, true);
        agent.destroy();
        expect(r.success).toBe(true);
        return { ttft: r.ttft, tpot: (r.latency - r.ttft) / (r.outputLen - 1) };
      });
    const base = await one(s, 64);
    const mtp = await one(
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
    // gen max_seq_len: room for 8000 prompt + 300 output tokens (the default context is 8192).
    const longCtx = (tp: number): SimSettings =>
      settings({ worker_config: { ctx: { tensor_parallel_size: tp }, gen: { max_seq_len: 8448 } } });
    const slowCtx = await one(longCtx(1), 8000);
    const fastCtx = await one(longCtx(8), 8000);
    expect(fastCtx.ttft).toBeLessThan(0.5 * slowCtx.ttft);
  }, 60_000);

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
