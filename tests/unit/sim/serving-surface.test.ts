// The simulator's OpenAI serving surface as real clients see it: the `openai` npm client (completions,
// chat, streaming with usage, models, typed errors), request bodies shaped exactly as lm-eval's
// local-completions / local-chat-completions send them, the trtllm-serve side routes, and the limits.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrompt, generateGsm8k } from '../../../src/sim/gsm8k-data.js';
import { closeServer, listen } from '../../../src/sim/http-util.js';
import { createClock } from '../../../src/sim/engine.js';
import { createLogger } from '../../../src/sim/logger.js';
import { startRouter } from '../../../src/sim/router.js';
import { resolveSettings, SIM_DEFAULTS, type SimSettings } from '../../../src/sim/settings.js';
import { countTokens, fillerText, tokenize } from '../../../src/sim/sim-model.js';
import { startInProcessStack, type Stack } from '../../../src/sim/stack.js';
import type { DisaggConfig } from '../../../src/types.js';

const MODEL = '/models/Sim-Model-FP8';

function settings(extra: DisaggConfig = {}): SimSettings {
  return resolveSettings({
    environment: { model_path: MODEL },
    // Fast: 100× real time; the surface, not the latency model, is under test here.
    simulator: { time_scale: 0.01, seed: 5, accuracy: 1 },
    ...extra,
  });
}

const dirs: string[] = [];
const stacks: Stack[] = [];
async function stack(s: SimSettings): Promise<Stack> {
  const d = mkdtempSync(join(tmpdir(), 'disagg-sim-surface-'));
  dirs.push(d);
  const st = await startInProcessStack(s, d);
  stacks.push(st);
  return st;
}
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface ErrorShape {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function expectErrorShape(body: unknown): ErrorShape {
  expect(body).toEqual({
    error: {
      message: expect.any(String) as unknown,
      type: expect.any(String) as unknown,
      param: expect.toSatisfy((p: unknown) => p === null || typeof p === 'string') as unknown,
      code: expect.toSatisfy((c: unknown) => c === null || typeof c === 'string') as unknown,
    },
  });
  return body as ErrorShape;
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown; text: string }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

describe('token rule', () => {
  it('counts whitespace + up to 4 characters per token; filler and answers keep their counts', () => {
    expect(countTokens('hello world')).toBe(4); // "hell" "o" " worl" "d"
    expect(tokenize('hello world')).toEqual(['hell', 'o', ' worl', 'd']);
    for (const n of [0, 1, 7, 1000]) expect(countTokens(fillerText(n))).toBe(n);
    const text = ' 3 + 4 = 7. 7 * 12345 = 86415.\n#### 86415';
    const toks = tokenize(text);
    expect(toks.join('')).toBe(text);
    // `#### N` survives slicing: the strict-match marker is one token, the number one or more.
    expect(toks.slice(-3)).toEqual(['\n####', ' 8641', '5']);
    // Any run of consecutive tokens counts as its length: a streamed chunk counts as what was sent.
    for (let i = 0; i < toks.length; i++) {
      for (let j = i + 1; j <= toks.length; j++) expect(countTokens(toks.slice(i, j).join(''))).toBe(j - i);
    }
  });
});

describe('OpenAI serving surface (openai npm client against the in-process stack)', () => {
  let st: Stack;
  let client: OpenAI;
  beforeAll(async () => {
    st = await stack(settings());
    client = new OpenAI({ baseURL: `${st.routerUrl}/v1`, apiKey: 'x', maxRetries: 0, timeout: 10_000 });
  });

  it('lists the served model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('completions: plain, batch and streamed with include_usage', async () => {
    const plain = await client.completions.create({ model: MODEL, prompt: 'Say hi', max_tokens: 5 });
    expect(plain.object).toBe('text_completion');
    expect(plain.choices).toHaveLength(1);
    expect(plain.choices[0]?.finish_reason).toBe('length');
    expect(countTokens(plain.choices[0]?.text ?? '')).toBe(5);
    expect(plain.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    // The TRT-LLM extra stays on the choice.
    expect(plain.choices[0]).toHaveProperty('avg_decoded_tokens_per_iter');

    const batch = await client.completions.create({
      model: MODEL,
      prompt: ['a', 'b c', 'dddd'],
      max_tokens: 3,
    });
    expect(batch.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(batch.usage).toEqual({ prompt_tokens: 4, completion_tokens: 9, total_tokens: 13 });

    const ids = await client.completions.create({ model: MODEL, prompt: [[1, 2, 3], [4]], max_tokens: 2 });
    expect(ids.choices).toHaveLength(2);
    expect(ids.usage?.prompt_tokens).toBe(4);

    const stream = await client.completions.create({
      model: MODEL,
      prompt: 'Say hi',
      max_tokens: 6,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: Array<string | null> = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let afterUsage = 0;
    for await (const chunk of stream) {
      if (usage) afterUsage++;
      if (chunk.usage) {
        expect(chunk.choices).toEqual([]);
        usage = chunk.usage;
      }
      for (const c of chunk.choices) {
        text += c.text;
        finishes.push(c.finish_reason);
      }
    }
    expect(countTokens(text)).toBe(6);
    expect(finishes.at(-1)).toBe('length');
    expect(finishes.slice(0, -1).every((f) => f === null)).toBe(true);
    expect(usage).toEqual({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });
    expect(afterUsage).toBe(0);
  });

  it('chat: plain and streamed (first delta carries the role, usage last)', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Say hi' }] },
    ];
    const plain = await client.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 4 });
    expect(plain.object).toBe('chat.completion');
    expect(plain.choices[0]?.message).toMatchObject({ role: 'assistant' });
    expect(countTokens(plain.choices[0]?.message.content ?? '')).toBe(4);
    expect(plain.choices[0]?.finish_reason).toBe('length');
    expect(plain.usage?.completion_tokens).toBe(4);

    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let last: string | null = null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        deltas.push(c.delta);
        last = c.finish_reason;
      }
    }
    expect(deltas[0]?.role).toBe('assistant');
    expect(deltas.slice(1).every((d) => d.role === undefined)).toBe(true);
    expect(countTokens(deltas.map((d) => d.content ?? '').join(''))).toBe(5);
    expect(last).toBe('length');
    expect(usage?.completion_tokens).toBe(5);
  });

  it('a wrong model is a typed 404 model_not_found; a bad max_tokens a typed 400', async () => {
    const wrong = await client.completions
      .create({ model: 'gpt-4o', prompt: 'x', max_tokens: 1 })
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OpenAI.NotFoundError);
    expect((wrong as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    const wrongChat = await client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(wrongChat).toBeInstanceOf(OpenAI.NotFoundError);

    for (const max_tokens of [0, -5, 1.5]) {
      const bad = await client.completions
        .create({ model: MODEL, prompt: 'x', max_tokens })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
      expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('max_tokens');
    }
    const tooLong = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
        max_completion_tokens: SIM_DEFAULTS.contextLength + 1,
      })
      .catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooLong as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });

  it('a request without `model` is served by the one model', async () => {
    const r = await post(`${st.routerUrl}/v1/completions`, { prompt: 'x', max_tokens: 2 });
    expect(r.status).toBe(200);
    expect((r.json as { model: string }).model).toBe(MODEL);
  });

  it("accepts lm-eval's local-completions and local-chat-completions bodies; chat scores like completions", async () => {
    const docs = generateGsm8k(4, 5, 'test');
    const shots = generateGsm8k(5, 5, 'train');
    const stop = ['Question:', '</s>', '<|im_end|>'];
    for (const doc of docs) {
      const prompt = buildPrompt(doc, shots);
      // LocalCompletionsAPI._create_payload(generate=True); tokenized_requests=False.
      const comp = await post(`${st.routerUrl}/v1/completions`, {
        prompt,
        model: MODEL,
        max_tokens: 256,
        temperature: 0,
        stop,
        seed: 1234,
      });
      expect(comp.status).toBe(200);
      const text = (comp.json as { choices: Array<{ text: string; index: number }> }).choices[0]?.text ?? '';
      expect(text).toContain(`#### ${doc.gold}`);

      // LocalChatCompletion._create_payload with --apply_chat_template (one user turn).
      const chat = await post(`${st.routerUrl}/v1/chat/completions`, {
        messages: [{ role: 'user', content: prompt }],
        model: MODEL,
        max_tokens: 256,
        temperature: 0,
        stop: stop.slice(0, 4),
        seed: 1234,
      });
      expect(chat.status).toBe(200);
      const body = chat.json as {
        choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
      };
      expect(body.choices[0]).toMatchObject({
        index: 0,
        message: { role: 'assistant' },
        finish_reason: 'stop',
      });
      expect(body.choices[0]?.message.content).toBe(text);
    }
    // tokenized_requests=True (lm-eval's default for local-completions): a batch of token-id lists.
    const ids = await post(`${st.routerUrl}/v1/completions`, {
      prompt: [[791, 4320, 374, 220]],
      model: MODEL,
      max_tokens: 8,
      temperature: 0,
      stop,
      seed: 1234,
    });
    expect(ids.status).toBe(200);
    // The loglikelihood body asks for echo + logprobs, which the simulator refuses clearly.
    const ll = await post(`${st.routerUrl}/v1/completions`, {
      model: MODEL,
      prompt: 'x',
      temperature: 0,
      max_tokens: 1,
      logprobs: 1,
      seed: 1234,
      echo: true,
    });
    expect(ll.status).toBe(400);
    expect(expectErrorShape(ll.json).error.code).toBe('unsupported_value');
  });

  it('serves /health, /health_generate, /version, /metrics and OpenAI-shaped 404/405', async () => {
    const get = (p: string): Promise<Response> => fetch(`${st.routerUrl}${p}`);
    expect((await get('/health')).status).toBe(200);
    const hg = await get('/health_generate');
    expect(hg.status).toBe(200);
    expect(await hg.text()).toBe('Generation health check OK');
    expect(await (await get('/version')).json()).toEqual({ version: expect.any(String) as unknown });
    const metrics = (await (await get('/metrics')).json()) as Array<Record<string, unknown>>;
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics[0]).toMatchObject({
      iter: expect.any(Number) as unknown,
      iterLatencyMS: expect.any(Number) as unknown,
      inflightBatchingStats: expect.any(Object) as unknown,
      serverRole: expect.stringMatching(/^(context|generation)$/) as unknown,
    });
    const missing = await get('/v1/nope');
    expect(missing.status).toBe(404);
    expect(expectErrorShape(await missing.json()).error.code).toBe('not_found');
    const wrongMethod = await get('/v1/completions');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expectErrorShape(await wrongMethod.json());
    // A worker serves the same surface.
    const gen = st.members.find((m) => m.kind === 'gen');
    const models = (await (await fetch(`http://127.0.0.1:${gen?.port ?? 0}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    expect(models.data[0]?.id).toBe(MODEL);
  });

  it('a 5 MB prompt is over the context (400); a 9 MB body over the body limit (413)', async () => {
    const five = await post(`${st.routerUrl}/v1/completions`, {
      model: MODEL,
      prompt: 'word '.repeat(1_000_000),
    });
    expect(five.status).toBe(400);
    const err = expectErrorShape(five.json).error;
    expect(err.code).toBe('context_length_exceeded');
    expect(err.message).toContain(`maximum context length is ${SIM_DEFAULTS.contextLength} tokens`);
    const nine = await post(`${st.routerUrl}/v1/completions`, {
      model: MODEL,
      prompt: 'x'.repeat(9 * 1024 * 1024),
    });
    expect(nine.status).toBe(413);
    expect(expectErrorShape(nine.json).error.message).toContain('8 MiB');
  });
});

describe('router faults and relays', () => {
  it('the simulated HTTP-500 fault answers OpenAI-shaped', async () => {
    const st = await stack(settings({ simulator: { time_scale: 0.01, faults: { http_500_rate: 1 } } }));
    const r = await post(`${st.routerUrl}/v1/chat/completions`, {
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 1,
    });
    expect(r.status).toBe(500);
    expect(expectErrorShape(r.json).error.type).toBe('server_error');
  });

  it("relays a worker's 4xx status and body verbatim", async () => {
    const body =
      '{"error":{"message":"worker says no","type":"invalid_request_error","param":null,"code":"x"}}';
    const stub = (status: number): http.Server =>
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          if (status === 200) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"choices":[{"index":0,"text":"","disaggregated_params":{}}]}');
          } else {
            res.writeHead(status, { 'content-type': 'application/json' }).end(body);
          }
        });
      });
    const s = settings();
    for (const [ctxStatus, genStatus] of [
      [422, 200],
      [200, 409],
    ] as const) {
      const ctx = stub(ctxStatus);
      const gen = stub(genStatus);
      const ctxPort = await listen(ctx);
      const genPort = await listen(gen);
      const d = mkdtempSync(join(tmpdir(), 'disagg-sim-relay-'));
      dirs.push(d);
      const router = await startRouter({
        settings: s,
        clock: createClock(s.timeScale),
        logger: createLogger(join(d, 'router.log')),
        ctxUrls: [`http://127.0.0.1:${ctxPort}`],
        genUrls: [`http://127.0.0.1:${genPort}`],
      });
      try {
        const r = await post(`${router.url}/v1/chat/completions`, {
          messages: [{ role: 'user', content: 'x' }],
          max_tokens: 1,
        });
        expect(r.status).toBe(ctxStatus === 200 ? genStatus : ctxStatus);
        expect(r.text).toBe(body);
      } finally {
        await router.close();
        await closeServer(ctx);
        await closeServer(gen);
      }
    }
  });
});
