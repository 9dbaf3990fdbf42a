// lm-eval-style gsm8k scoring against the completions endpoint: same prompt shape, same filters
// (strict-match, flexible-extract), same exact_match normalisation and stderr as lm-eval 0.4.x, and the
// same printed output (header line + markdown table) in the task's accuracy eval log.
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { buildPrompt, generateGsm8k, NUM_FEWSHOT, type Gsm8kDoc } from './gsm8k-data.js';
import { isRecord, parseJsonObject, postJson, readResponse } from './http-util.js';
import { formatLmEvalTable, lmEvalHeader, type LmEvalRow } from './log-writers.js';
import type { AccuracyTaskSettings } from './settings.js';
import { accuracyLogFile } from '../jobdir/files.js';

export const INVALID = '[invalid]';
const STRICT_RE = /#### (-?[0-9.,]+)/;
const FLEXIBLE_RE = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;
/** lm-eval gsm8k `regexes_to_ignore`, applied to prediction and gold before comparing. */
const IGNORE_RES = [/,/g, /\$/g, /[\s\S]*#### /g, /\.$/g];

/** strict-match: first `#### N`. */
export function strictMatch(text: string): string {
  const m = STRICT_RE.exec(text);
  return m ? (m[1] as string).trim() : INVALID;
}

/** flexible-extract: the last number-like token (group_select -1; first non-empty group of the tuple). */
export function flexibleExtract(text: string): string {
  let last: RegExpExecArray | undefined;
  FLEXIBLE_RE.lastIndex = 0;
  for (let m = FLEXIBLE_RE.exec(text), n = 0; m !== null && n < 100_000; m = FLEXIBLE_RE.exec(text), n++)
    last = m;
  if (!last) return INVALID;
  return (last[1] ?? last[2] ?? '').trim() || INVALID;
}

function normalise(s: string): string {
  let out = s;
  for (const re of IGNORE_RES) out = out.replace(re, '');
  return out.toLowerCase();
}

/** exact_match with ignore_case and the gsm8k regexes_to_ignore. */
export function exactMatch(pred: string, goldAnswer: string): boolean {
  return normalise(pred) === normalise(goldAnswer);
}

export interface FilterScore {
  value: number;
  stderr: number;
}

/** Mean and lm-eval's mean_stderr (sample std / sqrt(n)) = sqrt(p(1-p)/(n-1)) for 0/1 scores. */
export function meanAndStderr(scores: readonly number[]): FilterScore {
  const n = scores.length;
  if (n === 0) return { value: 0, stderr: 0 };
  const p = scores.reduce((a, b) => a + b, 0) / n;
  return { value: p, stderr: n > 1 ? Math.sqrt((p * (1 - p)) / (n - 1)) : 0 };
}

export interface EvalResult {
  task: string;
  n: number;
  strict: FilterScore;
  flexible: FilterScore;
  failedRequests: number;
  responses: string[];
}

export function scoreResponses(
  docs: readonly Gsm8kDoc[],
  responses: readonly string[],
): Pick<EvalResult, 'strict' | 'flexible'> {
  const strict = docs.map((d, i) => (exactMatch(strictMatch(responses[i] ?? ''), d.answer) ? 1 : 0));
  const flexible = docs.map((d, i) => (exactMatch(flexibleExtract(responses[i] ?? ''), d.answer) ? 1 : 0));
  return { strict: meanAndStderr(strict), flexible: meanAndStderr(flexible) };
}

export function tableRows(task: string, r: Pick<EvalResult, 'strict' | 'flexible'>): LmEvalRow[] {
  // Rows sorted by "metric,filter": flexible-extract first; continuation rows blank task/version.
  return [
    {
      task,
      version: '3',
      filter: 'flexible-extract',
      nShot: String(NUM_FEWSHOT),
      metric: 'exact_match',
      arrow: '↑',
      value: r.flexible.value.toFixed(4),
      pm: '±',
      stderr: r.flexible.stderr.toFixed(4),
    },
    {
      task: '',
      version: '',
      filter: 'strict-match',
      nShot: String(NUM_FEWSHOT),
      metric: 'exact_match',
      arrow: '↑',
      value: r.strict.value.toFixed(4),
      pm: '±',
      stderr: r.strict.stderr.toFixed(4),
    },
  ];
}

export interface EvalOptions {
  url: string;
  modelPath: string;
  task: AccuracyTaskSettings;
  numQuestions: number;
  seed: number;
  /** Real ms per request attempt. */
  timeoutMs: number;
  signal?: AbortSignal;
}

async function complete(o: EvalOptions, agent: http.Agent, prompt: string): Promise<string> {
  let lastErr = '';
  for (let attempt = 0; attempt <= o.task.maxRetries; attempt++) {
    if (o.signal?.aborted) break;
    try {
      const res = await postJson(
        `${o.url}/v1/completions`,
        {
          model: o.modelPath,
          prompt,
          max_tokens: o.task.maxGenToks,
          temperature: 0,
          stop: ['Question:', '</s>', '<|im_end|>'],
          seed: 1234,
        },
        { agent, timeoutMs: o.timeoutMs, signal: o.signal },
      );
      const text = await readResponse(res);
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode ?? 0}`);
      const body = parseJsonObject(text);
      const ch = Array.isArray(body?.choices) ? (body.choices[0] as unknown) : undefined;
      if (!isRecord(ch) || typeof ch.text !== 'string') throw new Error('invalid response');
      return ch.text;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
  }
  throw new Error(lastErr || 'aborted');
}

/** Runs one task (gsm8k only) and appends header + table to the task's accuracy log in `jobDir`. */
export async function runEval(o: EvalOptions, jobDir: string): Promise<EvalResult> {
  const log = join(jobDir, accuracyLogFile(o.task.task));
  const out = (s: string): void => appendFileSync(log, s.endsWith('\n') ? s : `${s}\n`);
  const ts = (): string => new Date().toISOString().replace('T', ':').slice(0, 19);
  const modelArgs = [`model=${o.modelPath}`, `base_url=${o.url}/v1/completions`, o.task.modelArgsExtra]
    .filter((s) => s !== '')
    .join(',');
  out(`${ts()} INFO     [__main__:440] Selected Tasks: ['${o.task.task}']`);
  if (o.task.task !== 'gsm8k') {
    out(
      `${ts()} ERROR    [__main__:450] Task '${o.task.task}' is not supported by the simulator (only gsm8k)`,
    );
    throw new Error(`accuracy task ${o.task.task} is not supported by the simulator (only gsm8k)`);
  }
  const docs = generateGsm8k(o.numQuestions, o.seed, 'test');
  const shots = generateGsm8k(NUM_FEWSHOT, o.seed, 'train');
  out(
    `${ts()} INFO     [evaluator:305] gsm8k: Using gen_kwargs: {'until': ['Question:', '</s>', '<|im_end|>'], 'do_sample': False, 'temperature': 0.0}`,
  );
  out(`${ts()} INFO     [api_models:115] Using max length 2048 - 1`);
  out(
    `${ts()} INFO     [api_models:118] Concurrent requests are enabled: num_concurrent=${o.task.numConcurrent}`,
  );
  out(`${ts()} INFO     [evaluator:496] Running generate_until requests (${docs.length} documents)`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: o.task.numConcurrent });
  const responses: string[] = new Array<string>(docs.length).fill('');
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < docs.length && !o.signal?.aborted) {
      const i = next++;
      try {
        responses[i] = await complete(o, agent, buildPrompt(docs[i] as Gsm8kDoc, shots));
      } catch (e) {
        failed++;
        out(
          `${ts()} WARNING  [api_models:380] Request failed after ${o.task.maxRetries} retries: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.task.numConcurrent, docs.length) }, () => worker()));
  } finally {
    agent.destroy();
  }
  if (o.signal?.aborted) throw new Error('accuracy evaluation aborted');
  const scores = scoreResponses(docs, responses);
  out(lmEvalHeader(o.task.model, modelArgs));
  out(formatLmEvalTable(tableRows(o.task.task, scores)));
  return { task: o.task.task, n: docs.length, ...scores, failedRequests: failed, responses };
}
