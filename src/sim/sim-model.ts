// The simulated LLM's "weights": a deterministic tokenizer and the text it generates. For gsm8k-style prompts
// it really reads the last question and works it out, then (deterministically per seed and question) gets
// it right with probability `accuracy` and phrases the answer in one of the configured styles. Anything
// else (benchmark prompts) gets filler tokens, like a model run with ignore_eos.
import { lastQuestion, solveQuestion, type Step } from './gsm8k-data.js';
import { drawFor } from './rng.js';

export type AnswerStyle = 'strict' | 'flexible' | 'none';

export interface ModelBehaviour {
  seed: number;
  accuracy: number;
  styles: { strict: number; flexible: number; none: number };
}

/**
 * One token = optional leading whitespace + up to 4 non-space characters, so a prompt's size counts (about
 * the chars-per-token ratio of real BPE vocabularies) yet the rule stays deterministic. Any concatenation
 * of consecutive tokens re-tokenizes into the same tokens, so a streamed chunk counts as what was sent.
 */
const TOKEN_RE = /\s*\S{1,4}/g;

export function tokenize(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

export function countTokens(text: string): number {
  let n = 0;
  const re = new RegExp(TOKEN_RE);
  while (re.exec(text) !== null) n++;
  return n;
}

const FILLER = ' tok';

/** Text of `n` filler tokens (cheap to build and to count). */
export function fillerText(n: number): string {
  return FILLER.repeat(Math.max(0, n));
}

export function pickStyle(draw: number, styles: ModelBehaviour['styles']): AnswerStyle {
  if (draw < styles.strict) return 'strict';
  if (draw < styles.strict + styles.flexible) return 'flexible';
  return 'none';
}

/** The answer text for one question (without the prompt), or undefined when it is not a question. */
export function answerFor(question: string, m: ModelBehaviour): string | undefined {
  const steps = solveQuestion(question);
  if (!steps || steps.length === 0) return undefined;
  const correct = drawFor(m.seed, `correct:${question}`) < m.accuracy;
  const style = pickStyle(drawFor(m.seed, `style:${question}`), m.styles);
  const last = steps[steps.length - 1] as Step;
  let final = last.result;
  if (!correct) {
    // A plausible arithmetic slip: off by 1..9, never negative, never accidentally right.
    const delta = 1 + Math.floor(drawFor(m.seed, `delta:${question}`) * 9);
    final =
      last.result - delta >= 0 && drawFor(m.seed, `sign:${question}`) < 0.5
        ? last.result - delta
        : last.result + delta;
  }
  const shown = steps.map((s, i) => `${s.text} = ${i === steps.length - 1 ? final : s.result}.`).join(' ');
  switch (style) {
    case 'strict':
      return ` ${shown}\n#### ${final}`;
    case 'flexible':
      return ` ${shown} The answer is ${final}.`;
    case 'none':
      return ' Let me think about this step by step, but I cannot finish the calculation.';
  }
}

/**
 * Tokens the model produces for `prompt`: the answer (stopping early, like EOS) for questions, filler up to
 * `maxTokens` otherwise. `ignoreEos` pads an answer with filler up to `maxTokens`.
 */
export function completionFor(
  prompt: string,
  maxTokens: number,
  ignoreEos: boolean,
  m: ModelBehaviour,
): { text: string; tokens: number; finishReason: 'stop' | 'length' } {
  const q = lastQuestion(prompt);
  const answer = q === undefined ? undefined : answerFor(q, m);
  if (answer === undefined) return { text: fillerText(maxTokens), tokens: maxTokens, finishReason: 'length' };
  const toks = tokenize(answer);
  if (toks.length >= maxTokens) {
    return { text: toks.slice(0, maxTokens).join(''), tokens: maxTokens, finishReason: 'length' };
  }
  if (ignoreEos) {
    return { text: answer + fillerText(maxTokens - toks.length), tokens: maxTokens, finishReason: 'length' };
  }
  return { text: answer, tokens: toks.length, finishReason: 'stop' };
}
