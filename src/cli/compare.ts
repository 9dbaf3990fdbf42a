// `disagg compare <baseline> <current> [--metric NAME]… [--concurrency N]… [--tolerance F] [--noise-k K]
// [--runs N] [--min-runs M] [--json]`: perf of two CSVs / output dirs / results JSON files, judged by the
// regression rule. The same input on both sides compares its latest run with its earlier ones. Exit 1 if
// and only if something regressed; 2 on bad usage or unreadable input (with --json as {"error": …}).
import { RESULTS_JSON } from '../jobdir/files.js';
import path from 'node:path';
import { readCompareInput } from '../results/compare-inputs.js';
import { compareSamples, filterSamples, splitLatest, type CompareRow } from '../stats/compare.js';
import { COMPARE_DEFAULTS, formatPercent, formatValue, type RuleSettings } from '../stats/regression.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIO } from './io.js';
import { pick } from '../util/pick.js';
import { MAX_DATA_FILE_BYTES, readRegularFile } from '../util/read-regular-file.js';

export const usage =
  'usage: disagg compare <baseline> <current> | <input> [--metric NAME]… [--concurrency N]… [--tolerance F] [--noise-k K]\n' +
  '                      [--runs N] [--min-runs M] [--json]\n' +
  '  each side: a perf CSV, an output dir (its history.jsonl, else its perf CSV) or a ' +
  `${RESULTS_JSON}\n` +
  '  one <input>: its latest run against its earlier runs; the same input on both sides: 0 regressions\n' +
  '  --metric NAME  only this metric (repeatable or comma-separated; as written or its bench key)\n' +
  '  --concurrency N  only this concurrency (repeatable or comma-separated)\n' +
  `  --tolerance F  smallest allowed worsening, a fraction (default ${COMPARE_DEFAULTS.tolerance} = 5 %)\n` +
  `  --noise-k K    allowed worsening in units of the baseline's noise (default ${COMPARE_DEFAULTS.noiseK})\n` +
  `  --runs N       baseline runs: the last N by end time, 0 = all (default ${COMPARE_DEFAULTS.runs})\n` +
  `  --min-runs M   fewer baseline runs give no verdict (default ${COMPARE_DEFAULTS.minRuns})\n` +
  '  exit 0: no regression; 1: a regression; 2: bad usage or input';

function nonNegative(name: string, text: string | undefined, fallback: number, max = Infinity): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n >= max) {
    const range = max === Infinity ? 'a number ≥ 0' : `a fraction from 0 to below ${max} (0.05 = 5 %)`;
    throw new UsageError(`--${name} must be ${range}, got '${text}'`);
  }
  return n;
}

function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`--${name} must be a whole number ≥ 0, got '${text}'`);
  return n;
}

function settingsOf(values: Record<string, string | boolean | string[] | undefined>): RuleSettings {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  return {
    tolerance: nonNegative('tolerance', str('tolerance'), COMPARE_DEFAULTS.tolerance, 1),
    noiseK: nonNegative('noise-k', str('noise-k'), COMPARE_DEFAULTS.noiseK),
    runs: count('runs', str('runs'), COMPARE_DEFAULTS.runs),
    minRuns: count('min-runs', str('min-runs'), COMPARE_DEFAULTS.minRuns),
  };
}

function listOf(values: Record<string, string | boolean | string[] | undefined>, key: string): string[] {
  const v = values[key];
  const items = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return items
    .flatMap((x) => (typeof x === 'string' ? x.split(',') : []))
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function concurrencies(texts: readonly string[]): number[] {
  return texts.map((t) => {
    if (!/^\d+$/.test(t)) throw new UsageError(`--concurrency must be a whole number ≥ 0, got '${t}'`);
    return Number(t);
  });
}

/** Both sides are one input: the same resolved file, or byte-identical content. */
async function sameInput(a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const bound = { maxBytes: MAX_DATA_FILE_BYTES };
  const [x, y] = await Promise.all([readRegularFile(a, bound), readRegularFile(b, bound)]);
  return x.equals(y);
}

const signed = (x: number | null): string =>
  x === null ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : ''}${formatPercent(x)}`;
const num = (x: number | null): string => (x === null ? '–' : formatValue(x));

/** The documented `--json` row, in this order. */
const JSON_ROW_FIELDS = [
  'test',
  'concurrency',
  'metric',
  'baseline',
  'baselineRuns',
  'current',
  'delta',
  'noise',
  'allowed',
  'verdict',
] as const;

function table(rows: readonly CompareRow[]): string {
  const header = ['verdict', 'delta', 'allowed', 'baseline', 'runs', 'current', 'conc', 'metric', 'test'];
  const cells = rows.map((r) => [
    r.verdict,
    signed(r.delta),
    r.allowed === null ? '–' : `±${formatPercent(r.allowed)}`,
    num(r.baseline),
    String(r.baselineRuns),
    num(r.current),
    String(r.concurrency),
    r.metric,
    r.test,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const right = new Set([1, 2, 3, 4, 5, 6]);
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i === c.length - 1 ? v : right.has(i) ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function summary(rows: readonly CompareRow[], regressions: number): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  const parts = [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
  return `${plural(rows.length, 'row')}: ${parts || 'nothing to compare'}; ${plural(regressions, 'regression')}`;
}

async function compare(argv: string[], io: CliIO): Promise<{ code: number; text: string }> {
  const { values, positionals } = parseCommandArgs(
    argv,
    usage,
    {
      tolerance: { type: 'string' },
      'noise-k': { type: 'string' },
      runs: { type: 'string' },
      'min-runs': { type: 'string' },
      metric: { type: 'string', multiple: true },
      concurrency: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  if (values.help === true) return { code: 0, text: `${usage}\n` };
  if (positionals.length !== 1 && positionals.length !== 2) {
    throw new UsageError(
      `expected <baseline> <current>, or one <input> (its latest run against its earlier runs), got ${positionals.length} path(s)\n${usage}`,
    );
  }
  // One input: its latest run against its earlier runs (read once, used on both sides).
  const single = positionals.length === 1;
  const settings = settingsOf(values);
  // A history is read by its index, each test's last runs only: the baseline's `runs` passed runs and
  // the latest run (the current side's latest runs are as many). --runs 0 reads everything.
  const recentRuns = settings.runs > 0 ? settings.runs + 1 : undefined;
  const read = async (p: string) => {
    try {
      return await readCompareInput(path.resolve(io.cwd, p), { recentRuns });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const [baseline, current] = single
    ? await read(positionals[0] as string).then((input) => [input, input])
    : await Promise.all(positionals.map(read));
  const filter = {
    metrics: listOf(values, 'metric'),
    concurrencies: concurrencies(listOf(values, 'concurrency')),
  };
  // Two names of one input (the same file, or byte-identical content): nothing can have regressed.
  const identical = !single && (await sameInput(baseline.file, current.file));
  let baseSamples = filterSamples(baseline.samples, filter);
  let curSamples = filterSamples(current.samples, filter);
  if (single) {
    // Never a run against itself: the latest run against the runs before it.
    const split = splitLatest(curSamples);
    baseSamples = split.earlier;
    curSamples = split.latest;
  }
  const nothingEarlier = single && baseSamples.length === 0 && curSamples.length > 0;
  const result =
    identical || nothingEarlier
      ? { rows: [], regressions: 0 }
      : compareSamples(baseSamples, curSamples, settings);
  const code = result.regressions > 0 ? 1 : 0;
  const note = identical
    ? [
        'the inputs are identical: 0 regressions by definition ' +
          '(`disagg compare <input>` judges its latest run against its earlier runs)',
      ]
    : !single
      ? []
      : nothingEarlier
        ? ['one run only: nothing earlier to compare with']
        : ['its latest run against its earlier runs'];
  // Damaged lines left out of either input are said, once per file.
  const skipped = [...new Set([...baseline.notices, ...current.notices])];
  if (values.json === true) {
    const rows = result.rows.map((r) => pick(r, JSON_ROW_FIELDS));
    const extra = identical ? { identical: true, note: note[0] } : note.length > 0 ? { note: note[0] } : {};
    const left = skipped.length > 0 ? { skipped } : {};
    return {
      code,
      text: `${JSON.stringify({ rows, regressions: result.regressions, ...extra, ...left })}\n`,
    };
  }
  const failed = result.rows.filter((r) => r.verdict === 'regressed');
  const text = [
    `baseline: ${baseline.file} (${baseline.kind}, ${plural(baseline.samples.length, 'value')})`,
    `current:  ${current.file} (${current.kind}, ${plural(current.samples.length, 'value')})`,
    ...note,
    ...skipped.map((n) => `note: ${n}`),
    '',
    result.rows.length > 0
      ? table(result.rows)
      : identical || nothingEarlier
        ? 'no verdicts'
        : 'no metric on either side',
    '',
    ...failed.map((r) => r.message),
    summary(result.rows, result.regressions),
  ].join('\n');
  return { code, text: `${text}\n` };
}

export const run: CliCommand = async (argv: string[], io: CliIO): Promise<number> => {
  // Errors are answered here (not by main) so that every one of them, bad input included, exits 2 and
  // honours --json: exit 1 is reserved for "something regressed".
  const json = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).includes('--json');
  try {
    const { code, text } = await compare(argv, io);
    io.stdout(text);
    return code;
  } catch (err) {
    const message = (err as Error).message;
    if (json) io.stdout(`${JSON.stringify({ error: message })}\n`);
    else io.stderr(`disagg compare: ${message}\n`);
    return 2;
  }
};
