// Parses and validates an OpenAI /v1/completions or /v1/chat/completions body into one normalized
// request. Every bad input becomes an HttpError (4xx, OpenAI-shaped), never an exception that would
// surface as a 500. Unknown fields are ignored, as lm-eval spreads its gen_kwargs into the body.
import { badRequest, HttpError } from './openai-errors.js';
import { countTokens } from './sim-model.js';

export type Endpoint = 'completions' | 'chat';

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  completions: '/v1/completions',
  chat: '/v1/chat/completions',
};

/** max_tokens when the body has none: OpenAI's completions default (used for chat too, see README). */
export const DEFAULT_MAX_TOKENS = 16;
/** Most prompts one completions request may batch (each becomes a decoding sequence). */
export const MAX_BATCH_PROMPTS = 1024;
/** Deepest JSON nesting accepted: forwarding a deeper body would overflow JSON.stringify's stack. */
export const MAX_JSON_DEPTH = 64;
/** Token ids are int32, as in every real vocabulary. */
const MAX_TOKEN_ID = 2 ** 31 - 1;

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

export interface PromptInput {
  /** What the simulated model reads; empty for token-id prompts (it cannot read ids). */
  text: string;
  tokens: number;
}

export interface SimRequest {
  endpoint: Endpoint;
  /** The served model's id (a request naming another model never gets this far). */
  model: string;
  prompts: PromptInput[];
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  ignoreEos: boolean;
  disaggregatedParams: Record<string, unknown> | undefined;
}

export interface ServedModel {
  id: string;
  /** Longest prompt + max_tokens (tokens). */
  contextLength: number;
}

type Body = Record<string, unknown>;

function isRecord(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deepest nesting of arrays/objects, counted without recursion (the input may be hostile). */
function depthExceeds(root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** The request body as a JSON object (400 for invalid JSON, a non-object, or absurd nesting). */
export function parseBody(text: string): Body {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw badRequest(
      `invalid JSON body: ${e instanceof Error ? e.message : String(e)}`,
      null,
      'invalid_json',
    );
  }
  if (!isRecord(v))
    throw badRequest(`request body must be a JSON object, got ${kind(v)}`, null, 'invalid_type');
  if (depthExceeds(v, MAX_JSON_DEPTH)) {
    throw badRequest(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`, null, 'invalid_value');
  }
  return v;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  return `${typeof v} ${String(v).slice(0, 40)}`;
}

function invalidType(param: string, expected: string, v: unknown): HttpError {
  return badRequest(`'${param}' must be ${expected}, got ${kind(v)}`, param, 'invalid_type');
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown): v is number => isNumber(v) && Number.isSafeInteger(v);

/** The field's value, or undefined when absent or null (OpenAI treats null as "not set"). */
function field(body: Body, key: string): unknown {
  const v = body[key];
  return v === null ? undefined : v;
}

function optionalBool(body: Body, key: string): boolean | undefined {
  const v = field(body, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalidType(key, 'a boolean', v);
  return v;
}

function optionalNumber(body: Body, key: string, min: number, max: number): void {
  const v = field(body, key);
  if (v === undefined) return;
  if (!isNumber(v)) throw invalidType(key, 'a number', v);
  if (v < min || v > max) throw badRequest(`'${key}' must be between ${min} and ${max}, got ${v}`, key);
}

function optionalInt(body: Body, key: string): number | undefined {
  const v = field(body, key);
  if (v === undefined) return undefined;
  if (!isInt(v)) throw invalidType(key, 'an integer', v);
  return v;
}

function optionalString(body: Body, key: string): string | undefined {
  const v = field(body, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidType(key, 'a string', v);
  return v;
}

function unsupported(param: string, message: string): HttpError {
  return badRequest(`${message} (not supported by the simulator)`, param, 'unsupported_value');
}

/** Parameters both endpoints share: type-checked; values the simulator cannot honour are refused. */
function checkCommon(body: Body): void {
  optionalNumber(body, 'temperature', 0, 2);
  optionalNumber(body, 'top_p', 0, 1);
  optionalNumber(body, 'presence_penalty', -2, 2);
  optionalNumber(body, 'frequency_penalty', -2, 2);
  optionalInt(body, 'seed');
  optionalString(body, 'user');
  optionalBool(body, 'ignore_eos');
  const n = optionalInt(body, 'n');
  if (n !== undefined && n !== 1) throw unsupported('n', `'n' must be 1, got ${n}`);
  const stop = field(body, 'stop');
  if (
    stop !== undefined &&
    typeof stop !== 'string' &&
    !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))
  ) {
    throw invalidType('stop', 'a string or a list of strings', stop);
  }
  const dp = field(body, 'disaggregated_params');
  if (dp !== undefined && !isRecord(dp)) throw invalidType('disaggregated_params', 'an object', dp);
}

function maxTokensOf(body: Body, keys: readonly string[]): number {
  // The first key that is set wins (chat: max_completion_tokens, then the deprecated max_tokens).
  for (const key of keys) {
    const v = field(body, key);
    if (v === undefined) continue;
    if (!isNumber(v) || !Number.isInteger(v)) throw invalidType(key, 'an integer', v);
    if (v < 1) throw badRequest(`'${key}' must be at least 1, got ${v}`, key);
    return v;
  }
  return DEFAULT_MAX_TOKENS;
}

function textPrompt(text: string): PromptInput {
  return { text, tokens: countTokens(text) };
}

const isTokenId = (v: unknown): boolean => isInt(v) && v >= 0 && v <= MAX_TOKEN_ID;

const PROMPT_SHAPES =
  'a string, a list of strings, a list of token ids or a list of token-id lists (non-empty)';

function completionPrompts(body: Body): PromptInput[] {
  const v = field(body, 'prompt');
  if (v === undefined) throw badRequest("'prompt' is required", 'prompt', 'missing_required_parameter');
  if (typeof v === 'string') return [textPrompt(v)];
  if (!Array.isArray(v) || v.length === 0) throw invalidType('prompt', PROMPT_SHAPES, v);
  let prompts: PromptInput[];
  if (v.every((x) => typeof x === 'string')) prompts = (v as string[]).map(textPrompt);
  else if (v.every(isTokenId)) prompts = [{ text: '', tokens: v.length }];
  else if (v.every((x) => Array.isArray(x) && x.length > 0 && x.every(isTokenId))) {
    prompts = (v as unknown[][]).map((ids) => ({ text: '', tokens: ids.length }));
  } else {
    throw badRequest(
      `'prompt' must be ${PROMPT_SHAPES}; token ids are integers 0..${MAX_TOKEN_ID}`,
      'prompt',
      'invalid_type',
    );
  }
  if (prompts.length > MAX_BATCH_PROMPTS) {
    throw badRequest(
      `'prompt' batches at most ${MAX_BATCH_PROMPTS} prompts, got ${prompts.length}`,
      'prompt',
    );
  }
  return prompts;
}

function messageContent(content: unknown, role: string, i: number): string {
  const param = `messages[${i}].content`;
  if (typeof content === 'string') return content;
  // An assistant turn that only called tools has no content.
  if (content === undefined || content === null) {
    if (role === 'assistant') return '';
    throw badRequest(`'${param}' is required`, param, 'missing_required_parameter');
  }
  if (!Array.isArray(content))
    throw invalidType(param, "a string or a list of {type: 'text', text} parts", content);
  return content
    .map((part, j) => {
      if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw badRequest(
          `'${param}[${j}]' must be {type: 'text', text: string}: the simulated model reads text only`,
          `${param}[${j}]`,
          'invalid_type',
        );
      }
      return part.text;
    })
    .join('\n');
}

/**
 * The chat prompt the model reads: one `role: content` line per message, like a plain chat template.
 * The gsm8k model finds the last `Question: …\nAnswer:` in it as in a completions prompt.
 */
function chatPrompt(body: Body): PromptInput {
  const v = field(body, 'messages');
  if (v === undefined) throw badRequest("'messages' is required", 'messages', 'missing_required_parameter');
  if (!Array.isArray(v) || v.length === 0) throw invalidType('messages', 'a non-empty list of messages', v);
  const roles: readonly string[] = CHAT_ROLES;
  const lines = v.map((m, i) => {
    if (!isRecord(m)) throw invalidType(`messages[${i}]`, 'an object', m);
    if (typeof m.role !== 'string' || !roles.includes(m.role)) {
      throw badRequest(
        `'messages[${i}].role' must be one of ${CHAT_ROLES.join(', ')}, got ${typeof m.role === 'string' ? `'${m.role.slice(0, 40)}'` : kind(m.role)}`,
        `messages[${i}].role`,
      );
    }
    if (m.name !== undefined && m.name !== null && typeof m.name !== 'string') {
      throw invalidType(`messages[${i}].name`, 'a string', m.name);
    }
    return `${m.role}: ${messageContent(m.content, m.role, i)}`;
  });
  return textPrompt(lines.join('\n'));
}

function checkModel(body: Body, served: ServedModel): void {
  const model = field(body, 'model');
  // No model: the one served (vLLM and trtllm-serve accept that too).
  if (model === undefined) return;
  if (typeof model !== 'string') throw invalidType('model', 'a string', model);
  if (model !== served.id) {
    throw new HttpError(
      404,
      `The model '${model.slice(0, 200)}' does not exist; this server serves '${served.id}'`,
      'model_not_found',
      'model',
    );
  }
}

/** Validates a parsed body for `endpoint` and normalizes it; throws HttpError (4xx) on bad input. */
export function parseRequest(endpoint: Endpoint, body: Body, served: ServedModel): SimRequest {
  checkModel(body, served);
  checkCommon(body);
  const stream = optionalBool(body, 'stream') ?? false;
  const so = field(body, 'stream_options');
  let includeUsage = false;
  if (so !== undefined) {
    if (!isRecord(so)) throw invalidType('stream_options', 'an object', so);
    if (!stream) throw badRequest("'stream_options' is only allowed when 'stream' is true", 'stream_options');
    includeUsage = optionalBool(so, 'include_usage') ?? false;
  }
  let prompts: PromptInput[];
  let maxTokens: number;
  if (endpoint === 'completions') {
    if (optionalBool(body, 'echo') === true) throw unsupported('echo', "'echo' must be false");
    const lp = field(body, 'logprobs');
    if (lp !== undefined && !isInt(lp)) throw invalidType('logprobs', 'an integer', lp);
    if (lp !== undefined && lp !== 0)
      throw unsupported('logprobs', `'logprobs' must be 0 or null, got ${lp}`);
    const bestOf = optionalInt(body, 'best_of');
    if (bestOf !== undefined && bestOf !== 1)
      throw unsupported('best_of', `'best_of' must be 1, got ${bestOf}`);
    optionalString(body, 'suffix');
    prompts = completionPrompts(body);
    maxTokens = maxTokensOf(body, ['max_tokens']);
  } else {
    if (optionalBool(body, 'logprobs') === true) throw unsupported('logprobs', "'logprobs' must be false");
    optionalInt(body, 'top_logprobs');
    prompts = [chatPrompt(body)];
    maxTokens = maxTokensOf(body, ['max_completion_tokens', 'max_tokens']);
  }
  const param = endpoint === 'chat' ? 'messages' : 'prompt';
  for (const p of prompts) {
    if (p.tokens === 0) throw badRequest(`'${param}' has no tokens`, param);
    if (p.tokens + maxTokens > served.contextLength) {
      throw new HttpError(
        400,
        `This model's maximum context length is ${served.contextLength} tokens. However, you requested ` +
          `${p.tokens + maxTokens} tokens (${p.tokens} in the ${param}, ${maxTokens} for the completion). ` +
          'Please reduce the length of the prompt or the completion.',
        'context_length_exceeded',
        param,
      );
    }
  }
  const dp = field(body, 'disaggregated_params');
  return {
    endpoint,
    model: served.id,
    prompts,
    maxTokens,
    stream,
    includeUsage,
    ignoreEos: optionalBool(body, 'ignore_eos') ?? false,
    disaggregatedParams: isRecord(dp) ? dp : undefined,
  };
}
