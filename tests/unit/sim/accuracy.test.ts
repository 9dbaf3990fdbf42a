import { describe, expect, it } from 'vitest';
import {
  exactMatch,
  flexibleExtract,
  meanAndStderr,
  scoreResponses,
  strictMatch,
} from '../../../src/sim/evaluator.js';
import { buildPrompt, generateGsm8k, lastQuestion, solveQuestion } from '../../../src/sim/gsm8k-data.js';
import { completionFor, type ModelBehaviour } from '../../../src/sim/sim-model.js';

const GOLD = 'Some steps.\n#### 18';

describe('gsm8k filters (lm-eval gsm8k task v3.0 regexes, gold `#### 18`)', () => {
  const cases: Array<[string, boolean, boolean]> = [
    ['… = $18 every day.\n#### 18', true, true],
    ['… 18 dollars. The answer is 18.', false, true],
    ['The answer is 18', false, true],
    ['#### 18\nQuestion 2 has 5 eggs', true, false],
    ['#### 17 and the answer is 18', false, true],
  ];
  it.each(cases)('%j → strict %s, flexible %s', (out, strictOk, flexOk) => {
    expect(exactMatch(strictMatch(out), GOLD)).toBe(strictOk);
    expect(exactMatch(flexibleExtract(out), GOLD)).toBe(flexOk);
  });
  it('returns [invalid] when nothing matches', () => {
    expect(strictMatch('no number')).toBe('[invalid]');
    expect(flexibleExtract('no number')).toBe('[invalid]');
    expect(exactMatch('1,234', 'x\n#### 1234')).toBe(true);
  });
  it('stderr is sqrt(p(1-p)/(n-1))', () => {
    const s = meanAndStderr([1, 1, 1, 0]);
    expect(s.value).toBe(0.75);
    expect(s.stderr).toBeCloseTo(Math.sqrt((0.75 * 0.25) / 3), 12);
  });
});

describe('generated gsm8k data', () => {
  it('is deterministic per seed and its gold answers are solvable from the text', () => {
    const a = generateGsm8k(50, 7);
    expect(generateGsm8k(50, 7)).toEqual(a);
    expect(generateGsm8k(50, 8)).not.toEqual(a);
    for (const d of a) {
      expect(d.answer.endsWith(`#### ${d.gold}`)).toBe(true);
      expect(solveQuestion(d.question)?.at(-1)?.result).toBe(d.gold);
    }
    const prompt = buildPrompt(a[3]!, generateGsm8k(5, 7, 'train'));
    expect(lastQuestion(prompt)).toBe(a[3]!.question);
  });
});

function evaluate(n: number, m: ModelBehaviour): ReturnType<typeof scoreResponses> {
  const docs = generateGsm8k(n, m.seed);
  const shots = generateGsm8k(5, m.seed, 'train');
  const responses = docs.map((d) => completionFor(buildPrompt(d, shots), 256, false, m).text);
  return scoreResponses(docs, responses);
}

describe('simulated model accuracy', () => {
  it('with accuracy 0.6 the measured exact_match is within 3 stderr', () => {
    for (const seed of [1, 2, 3]) {
      const r = evaluate(400, { seed, accuracy: 0.6, styles: { strict: 1, flexible: 0, none: 0 } });
      expect(Math.abs(r.flexible.value - 0.6)).toBeLessThan(3 * r.flexible.stderr);
      expect(Math.abs(r.strict.value - 0.6)).toBeLessThan(3 * r.strict.stderr);
      expect(r.strict.value).toBe(r.flexible.value);
    }
  });
  it('strict-match and flexible-extract differ when the style mix says so', () => {
    const r = evaluate(400, { seed: 5, accuracy: 0.8, styles: { strict: 0.5, flexible: 0.4, none: 0.1 } });
    // flexible catches strict + flexible styles (≈0.8·0.9), strict only the strict style (≈0.8·0.5).
    expect(Math.abs(r.flexible.value - 0.72)).toBeLessThan(3 * r.flexible.stderr);
    expect(Math.abs(r.strict.value - 0.4)).toBeLessThan(3 * r.strict.stderr);
    expect(r.flexible.value - r.strict.value).toBeGreaterThan(0.2);
  });
  it('answers deterministically and pads to max_tokens only with ignore_eos', () => {
    const m: ModelBehaviour = { seed: 9, accuracy: 0.5, styles: { strict: 1, flexible: 0, none: 0 } };
    const p = buildPrompt(generateGsm8k(1, 9)[0]!, []);
    expect(completionFor(p, 256, false, m)).toEqual(completionFor(p, 256, false, m));
    expect(completionFor(p, 256, false, m).finishReason).toBe('stop');
    expect(completionFor(p, 256, true, m).tokens).toBe(256);
    expect(completionFor('tok tok tok', 100, true, m).tokens).toBe(100);
  });
});
