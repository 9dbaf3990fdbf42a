// OpenAI response bodies and SSE chunks for both endpoints (text_completion / chat.completion[.chunk]),
// and the writer that turns per-choice token batches into a streamed or a whole response.
import type http from 'node:http';
import type { Endpoint } from './openai-request.js';

export type FinishReason = 'stop' | 'length';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  endpoint: Endpoint;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const SSE_DONE = 'data: [DONE]\n\n';

export function responseId(endpoint: Endpoint, unique: string): string {
  return `${endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${unique}`;
}

function objectName(endpoint: Endpoint, chunk: boolean): string {
  if (endpoint === 'completions') return 'text_completion';
  return chunk ? 'chat.completion.chunk' : 'chat.completion';
}

function envelope(meta: ResponseMeta, chunk: boolean, choices: unknown[]): Record<string, unknown> {
  return {
    id: meta.id,
    object: objectName(meta.endpoint, chunk),
    created: meta.created,
    model: meta.model,
    choices,
  };
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** One choice of a whole (non-streamed) response; `extra` carries TRT-LLM's additions. */
function wholeChoice(
  endpoint: Endpoint,
  index: number,
  text: string,
  finish: FinishReason,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const content = endpoint === 'chat' ? { message: { role: 'assistant', content: text } } : { text };
  return { index, ...content, logprobs: null, finish_reason: finish, ...extra };
}

/** What a context-only (prefill) leg answers: no text, the KV cache handle in disaggregated_params. */
export function contextOnlyBody(
  meta: ResponseMeta,
  prompts: number,
  params: Record<string, unknown>,
  usage: Usage,
): Record<string, unknown> {
  const choices = Array.from({ length: prompts }, (_, i) =>
    wholeChoice(meta.endpoint, i, '', 'length', { disaggregated_params: params }),
  );
  return { ...envelope(meta, false, choices), usage };
}

function sse(body: unknown): string {
  return `data: ${JSON.stringify(body)}\n\n`;
}

interface ChoiceState {
  text: string;
  tokens: number;
  started: boolean;
  finish?: FinishReason;
  avgDecoded: number;
}

/**
 * Collects the tokens of each choice and writes them as SSE chunks (stream) or one JSON body once every
 * choice finished. Usage (prompt tokens summed over the batch) goes last, before `[DONE]`, when asked for.
 */
export class CompletionWriter {
  private readonly choices: ChoiceState[];
  private left: number;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly meta: ResponseMeta,
    private readonly opts: { stream: boolean; includeUsage: boolean; promptTokens: number },
    choices: number,
  ) {
    this.choices = Array.from({ length: choices }, () => ({
      text: '',
      tokens: 0,
      started: false,
      avgDecoded: 0,
    }));
    this.left = choices;
    if (opts.stream)
      this.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  }

  get finished(): boolean {
    return this.left === 0;
  }

  /** `tokens` new tokens (`text`) of choice `index`; `finish` on its last batch. */
  write(
    index: number,
    text: string,
    tokens: number,
    finish?: { reason: FinishReason; avgDecoded: number },
  ): void {
    const c = this.choices[index];
    if (!c || c.finish !== undefined) return;
    c.tokens += tokens;
    if (finish) {
      c.finish = finish.reason;
      c.avgDecoded = finish.avgDecoded;
      this.left--;
    }
    if (this.opts.stream) this.res.write(sse(this.chunk(index, c, text)));
    else c.text += text;
    if (this.left === 0) this.end();
  }

  private chunk(index: number, c: ChoiceState, text: string): Record<string, unknown> {
    // TRT-LLM puts its extras on a choice's last chunk.
    const extra = c.finish ? { stop_reason: null, avg_decoded_tokens_per_iter: c.avgDecoded } : {};
    let body: Record<string, unknown>;
    if (this.meta.endpoint === 'chat') {
      // The first delta of a choice names the speaker, as OpenAI's does.
      const delta = c.started ? { content: text } : { role: 'assistant', content: text };
      body = { index, delta, logprobs: null, finish_reason: c.finish ?? null, ...extra };
    } else {
      body = { index, text, logprobs: null, finish_reason: c.finish ?? null, ...extra };
    }
    c.started = true;
    return envelope(this.meta, true, [body]);
  }

  private end(): void {
    const usage = usageOf(
      this.opts.promptTokens,
      this.choices.reduce((s, c) => s + c.tokens, 0),
    );
    if (this.opts.stream) {
      if (this.opts.includeUsage) this.res.write(sse({ ...envelope(this.meta, true, []), usage }));
      this.res.end(SSE_DONE);
      return;
    }
    const choices = this.choices.map((c, i) =>
      wholeChoice(this.meta.endpoint, i, c.text, c.finish ?? 'length', {
        avg_decoded_tokens_per_iter: c.avgDecoded,
      }),
    );
    const text = JSON.stringify({ ...envelope(this.meta, false, choices), usage });
    this.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    this.res.end(text);
  }
}
