// A gsm8k-shaped data set generated from a seed: arithmetic word problems whose gold answers end in
// `#### <n>` like the real data set. No download, so tests and demos run offline and reproducibly.
import { createRng, randInt } from './rng.js';

export interface Gsm8kDoc {
  question: string;
  /** Worked solution ending in `#### <n>` (lm-eval's gold format). */
  answer: string;
  /** The integer after `####`. */
  gold: number;
}

/** One step of a worked solution: `<text> = <result>`. */
interface Step {
  text: string;
  result: number;
}

interface Template {
  make(rng: () => number): { question: string; steps: Step[] };
  /** Reads a question of this template back into its solution steps (what the simulated model "does"). */
  solve(question: string): Step[] | undefined;
}

const NAMES = ['Natalia', 'Tom', 'Aisha', 'Kenji', 'Maria', 'Olu', 'Priya', 'Lars', 'Mei', 'Diego'];
const ITEMS = ['apple', 'marble', 'sticker', 'cookie', 'pencil', 'card', 'shell', 'book'];
const SHOPS = ['bakery', 'florist', 'toy shop', 'bookstore', 'farm stand'];

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)] as T;
}

const TEMPLATES: Template[] = [
  {
    make(rng) {
      const name = pick(rng, NAMES);
      const item = pick(rng, ITEMS);
      const a = randInt(rng, 10, 90);
      const b = randInt(rng, 2, 9);
      const c = randInt(rng, 2, 12);
      const d = randInt(rng, 1, a);
      return {
        question: `${name} has ${a} ${item}s. ${name} buys ${b} packs with ${c} ${item}s in each pack and then gives away ${d} ${item}s. How many ${item}s does ${name} have now?`,
        steps: [
          { text: `${b} * ${c}`, result: b * c },
          { text: `${a} + ${b * c}`, result: a + b * c },
          { text: `${a + b * c} - ${d}`, result: a + b * c - d },
        ],
      };
    },
    solve(q) {
      const m =
        /has (\d+) \w+\. \w+ buys (\d+) packs with (\d+) \w+ in each pack and then gives away (\d+)/.exec(q);
      if (!m) return undefined;
      const [a, b, c, d] = m.slice(1).map(Number) as [number, number, number, number];
      return [
        { text: `${b} * ${c}`, result: b * c },
        { text: `${a} + ${b * c}`, result: a + b * c },
        { text: `${a + b * c} - ${d}`, result: a + b * c - d },
      ];
    },
  },
  {
    make(rng) {
      const shop = pick(rng, SHOPS);
      const item = pick(rng, ITEMS);
      const p = randInt(rng, 2, 15);
      const m = randInt(rng, 5, 60);
      const t = randInt(rng, 5, 60);
      return {
        question: `A ${shop} sells ${item}s for $${p} each. On Monday it sells ${m} ${item}s and on Tuesday it sells ${t} ${item}s. How many dollars does it earn over the two days?`,
        steps: [
          { text: `${m} + ${t}`, result: m + t },
          { text: `${m + t} * ${p}`, result: (m + t) * p },
        ],
      };
    },
    solve(q) {
      const m = /for \$(\d+) each\. On Monday it sells (\d+) \w+ and on Tuesday it sells (\d+)/.exec(q);
      if (!m) return undefined;
      const [p, mo, tu] = m.slice(1).map(Number) as [number, number, number];
      return [
        { text: `${mo} + ${tu}`, result: mo + tu },
        { text: `${mo + tu} * ${p}`, result: (mo + tu) * p },
      ];
    },
  },
  {
    make(rng) {
      const name = pick(rng, NAMES);
      const a = randInt(rng, 5, 40);
      const b = randInt(rng, 2, 14);
      const c = randInt(rng, 3, 50);
      return {
        question: `${name} reads ${a} pages every day for ${b} days and then reads ${c} more pages on the weekend. How many pages does ${name} read in total?`,
        steps: [
          { text: `${a} * ${b}`, result: a * b },
          { text: `${a * b} + ${c}`, result: a * b + c },
        ],
      };
    },
    solve(q) {
      const m = /reads (\d+) pages every day for (\d+) days and then reads (\d+) more pages/.exec(q);
      if (!m) return undefined;
      const [a, b, c] = m.slice(1).map(Number) as [number, number, number];
      return [
        { text: `${a} * ${b}`, result: a * b },
        { text: `${a * b} + ${c}`, result: a * b + c },
      ];
    },
  },
  {
    make(rng) {
      const name = pick(rng, NAMES);
      const k = randInt(rng, 2, 9);
      const q = randInt(rng, 3, 40);
      const extra = randInt(rng, 1, 20);
      return {
        question: `${name} has $${k * q + extra}. ${name} spends $${extra} on lunch and shares the rest equally among ${k} friends. How many dollars does each friend get?`,
        steps: [
          { text: `${k * q + extra} - ${extra}`, result: k * q },
          { text: `${k * q} / ${k}`, result: q },
        ],
      };
    },
    solve(q) {
      const m =
        /has \$(\d+)\. \w+ spends \$(\d+) on lunch and shares the rest equally among (\d+) friends/.exec(q);
      if (!m) return undefined;
      const [total, extra, k] = m.slice(1).map(Number) as [number, number, number];
      return [
        { text: `${total} - ${extra}`, result: total - extra },
        { text: `${total - extra} / ${k}`, result: (total - extra) / k },
      ];
    },
  },
];

function solutionText(steps: Step[]): string {
  return steps.map((s) => `${s.text} = ${s.result}.`).join(' ');
}

/** `n` documents for `split` ("test" or "train"), identical for equal seeds. */
export function generateGsm8k(n: number, seed: number, split: 'test' | 'train' = 'test'): Gsm8kDoc[] {
  const rng = createRng(seed * 2 + (split === 'train' ? 1 : 0));
  const docs: Gsm8kDoc[] = [];
  for (let i = 0; i < n; i++) {
    const t = TEMPLATES[i % TEMPLATES.length] as Template;
    const { question, steps } = t.make(rng);
    const gold = (steps[steps.length - 1] as Step).result;
    docs.push({ question, answer: `${solutionText(steps)}\n#### ${gold}`, gold });
  }
  return docs;
}

/** Worked steps for a question in this data set's style, or undefined if it cannot be read. */
export function solveQuestion(question: string): Step[] | undefined {
  for (const t of TEMPLATES) {
    const s = t.solve(question);
    if (s) return s;
  }
  return undefined;
}

export type { Step };

export const NUM_FEWSHOT = 5;

/** lm-eval gsm8k prompt: 5-shot from train, then `Question: …\nAnswer:`. */
export function buildPrompt(doc: Gsm8kDoc, fewshot: readonly Gsm8kDoc[]): string {
  const shots = fewshot.map((d) => `Question: ${d.question}\nAnswer: ${d.answer}\n\n`).join('');
  return `${shots}Question: ${doc.question}\nAnswer:`;
}

/** The question of the last `Question: …\nAnswer:` turn in a prompt. */
export function lastQuestion(prompt: string): string | undefined {
  const i = prompt.lastIndexOf('Question: ');
  if (i < 0) return undefined;
  const rest = prompt.slice(i + 'Question: '.length);
  const j = rest.indexOf('\nAnswer:');
  return j < 0 ? undefined : rest.slice(0, j);
}
