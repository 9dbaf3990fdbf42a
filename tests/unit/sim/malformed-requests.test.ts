// A bad request must never give a 500: many malformed bodies (wrong types in every field, nulls, huge
// numbers, nested garbage, non-object JSON) thrown at both endpoints of the router and of a gen worker
// must each get a 4xx with the OpenAI error shape.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../../src/sim/settings.js';
import { startInProcessStack, type Stack } from '../../../src/sim/stack.js';

const MODEL = 'sim/model';

type Body = Record<string, unknown>;

const VALID: Record<'completions' | 'chat', Body> = {
  completions: { model: MODEL, prompt: 'hi', max_tokens: 2 },
  chat: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 },
};

const GARBAGE_NESTED = { a: [{ b: [null, { c: [[[]]] }] }] };

/** Values each field must refuse (400, or 404 for a model name nobody serves). */
const COMMON_BAD: Record<string, unknown[]> = {
  model: [1, true, [], {}, 'some-other-model', ''],
  max_tokens: [0, -5, 1.5, '16', true, [], {}, 1e308, 2 ** 53, -1e308, GARBAGE_NESTED],
  stream: ['true', 1, 0, [], {}],
  stream_options: ['x', 1, [], { include_usage: true }],
  temperature: ['0', -1, 3, true, [], {}, 1e308],
  top_p: ['1', 2, -0.1, []],
  n: [2, 0, -1, 1.5, '1', 1e308],
  stop: [1, [1], [null], {}, true, [['a']], GARBAGE_NESTED],
  seed: ['1', 1.5, [], 1e300],
  presence_penalty: [5, 'x'],
  frequency_penalty: [-5, {}],
  ignore_eos: ['yes', 1],
  user: [1, {}],
  disaggregated_params: ['x', 1, []],
};

const COMPLETIONS_BAD: Record<string, unknown[]> = {
  prompt: [
    1,
    true,
    {},
    [],
    [[]],
    [1, 'a'],
    [-1],
    [1.5],
    [2 ** 31],
    [[1], 'a'],
    [null],
    '',
    '   ',
    [{}],
    [[[1]]],
    GARBAGE_NESTED,
    Array.from({ length: 1025 }, () => 'x'),
  ],
  logprobs: [5, true, 'x', 1.5],
  echo: [true, 'x'],
  best_of: [2, 'x'],
  suffix: [1],
};

const CHAT_BAD: Record<string, unknown[]> = {
  messages: [
    1,
    'hi',
    {},
    [],
    [1],
    [null],
    [{}],
    [{ role: 'user' }],
    [{ role: 'bot', content: 'x' }],
    [{ role: 1, content: 'x' }],
    [{ role: 'user', content: 1 }],
    [{ role: 'user', content: { text: 'x' } }],
    [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
    [{ role: 'user', content: [{ type: 'text' }] }],
    [{ role: 'user', content: [1] }],
    [{ role: 'user', content: 'x', name: 5 }],
    [{ role: 'system', content: null }],
    [GARBAGE_NESTED],
  ],
  max_completion_tokens: [0, -1, 2.5, 'x', 1e308],
  logprobs: [true, 1, 'x'],
  top_logprobs: ['x', 1.5],
};

/** Bodies that are not even a request object. */
const RAW_BAD: string[] = [
  '',
  '{',
  '{"prompt": "x"',
  'null',
  '1',
  '"s"',
  '[]',
  '[{"prompt": "x"}]',
  'true',
  '{"prompt": "x", "max_tokens": 1e400}',
  '{"messages": [{"role": "user", "content": "x"}], "temperature": -1e400}',
  `{"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
  '\u0000\u0001',
];

function cases(endpoint: 'completions' | 'chat'): Array<{ name: string; body: string }> {
  const out: Array<{ name: string; body: string }> = [];
  const specific = endpoint === 'chat' ? CHAT_BAD : COMPLETIONS_BAD;
  for (const [key, values] of Object.entries({ ...COMMON_BAD, ...specific })) {
    for (const v of values) {
      out.push({
        name: `${key}=${JSON.stringify(v).slice(0, 40)}`,
        body: JSON.stringify({ ...VALID[endpoint], [key]: v }),
      });
    }
  }
  // Required fields null or missing, and every field null but the required one missing.
  const required = endpoint === 'chat' ? 'messages' : 'prompt';
  out.push({ name: `${required}=null`, body: JSON.stringify({ ...VALID[endpoint], [required]: null }) });
  const { [required]: _dropped, ...rest } = VALID[endpoint];
  out.push({ name: `no ${required}`, body: JSON.stringify(rest) });
  const allNull = Object.fromEntries(
    [...Object.keys(COMMON_BAD), ...Object.keys(specific)].map((k) => [k, null]),
  );
  out.push({ name: 'all null', body: JSON.stringify(allNull) });
  // stream_options without stream; a prompt over the context.
  out.push({
    name: 'stream_options without stream',
    body: JSON.stringify({ ...VALID[endpoint], stream_options: { include_usage: true } }),
  });
  out.push({
    name: 'stream_options.include_usage not boolean',
    body: JSON.stringify({ ...VALID[endpoint], stream: true, stream_options: { include_usage: 'yes' } }),
  });
  out.push({
    name: 'over the context',
    body: JSON.stringify({ ...VALID[endpoint], max_tokens: 10_000_000 }),
  });
  for (const raw of RAW_BAD) out.push({ name: `raw ${JSON.stringify(raw.slice(0, 30))}`, body: raw });
  return out;
}

describe('malformed requests never give a 500', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'disagg-sim-malformed-'));
    stack = await startInProcessStack(
      resolveSettings({ environment: { model_path: MODEL }, simulator: { time_scale: 0.01 } }),
      dir,
    );
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const endpoint of ['completions', 'chat'] as const) {
    it(`/v1/${endpoint === 'chat' ? 'chat/' : ''}completions: every malformed body is a shaped 4xx (router and gen worker)`, async () => {
      const path = endpoint === 'chat' ? '/v1/chat/completions' : '/v1/completions';
      const gen = stack.members.find((m) => m.kind === 'gen');
      const bases = [stack.routerUrl, `http://127.0.0.1:${gen?.port ?? 0}`];
      const all = cases(endpoint);
      expect(all.length).toBeGreaterThan(80);
      const failures: string[] = [];
      for (const base of bases) {
        await Promise.all(
          all.map(async ({ name, body }) => {
            const r = await fetch(`${base}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            const text = await r.text();
            let shaped = false;
            try {
              const j = JSON.parse(text) as { error?: Record<string, unknown> };
              const e = j.error;
              shaped =
                Object.keys(j).length === 1 &&
                typeof e?.message === 'string' &&
                typeof e.type === 'string' &&
                'param' in e &&
                'code' in e;
            } catch {
              shaped = false;
            }
            if (r.status < 400 || r.status >= 500 || !shaped) {
              failures.push(`${base} ${name}: ${r.status} ${text.slice(0, 120)}`);
            }
          }),
        );
      }
      expect(failures).toEqual([]);
      // Still serving after all that.
      const ok = await fetch(`${stack.routerUrl}${path}`, {
        method: 'POST',
        body: JSON.stringify(VALID[endpoint]),
      });
      expect(ok.status).toBe(200);
    });
  }
});
