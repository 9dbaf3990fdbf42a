import { LineCounter, parseDocument } from 'yaml';
import { parseYaml, type ParsedYaml } from '../config/load.js';
import { datasetName } from '../stats/verdict.js';
import type { AccuracyDatasetConfig, Category, ConfigEntry } from '../types.js';
import { lineSourceMap, type LineSourceMap } from '../util/sourcemap.js';

export interface GeneratedModule {
  code: string;
  map: LineSourceMap;
}

export interface YamlSyntaxError {
  message: string;
  line: number;
  column: number;
}

/** The generated module's verdict locations (see `VerdictLocations` in fixtures/steps/report.ts). */
const AT = '__disaggAt';
/** A function on its own generated line: the Error it creates has that line's YAML position in its stack. */
const THROWER = '(message) => { throw new Error(message); }';

/** The fixture each category's test body uses (lazy fixtures: only what is named runs). */
const BODY: Record<Category, string> = {
  perf: `async ({ perf, disaggReport }) => { await disaggReport.perf(perf, ${AT}); }`,
  accuracy: `async ({ accuracy, disaggReport }) => { await disaggReport.accuracy(accuracy, ${AT}); }`,
  stress: `async ({ perf, accuracy, disaggReport }) => { await disaggReport.perf(perf, ${AT}); await disaggReport.accuracy(accuracy, ${AT}); }`,
};

/** First YAML syntax error, with 1-based position, or undefined. */
export function yamlSyntaxError(source: string): YamlSyntaxError | undefined {
  const lineCounter = new LineCounter();
  // uniqueKeys off: the library's check is quadratic (duplicates are the loader's job, in linear time).
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const err = doc.errors[0];
  if (!err) return undefined;
  const pos = lineCounter.linePos(err.pos[0]);
  return { message: err.message.split('\n')[0], line: pos.line, column: pos.col };
}

/** Line of the first top-level key (where the test "is" in the YAML), 1-based. */
function firstKeyLine(source: string): { line: number; column: number } {
  // Only the head: a hostile file may be huge, and the first key is near the top.
  const lines = source.slice(0, 64 * 1024).split('\n');
  const idx = lines.findIndex((l) => /^[A-Za-z_][\w-]*\s*:/.test(l));
  return { line: idx < 0 ? 1 : idx + 1, column: 1 };
}

type Pos = { line: number; column: number };

/**
 * Where a failed verdict points: `benchmark.concurrency_list` for perf, each dataset's `expected_value`
 * for accuracy (by dataset name, as the verdicts name them).
 */
export function verdictPositions(parsed: ParsedYaml): { perf: Pos; accuracy: Map<string, Pos> } {
  const perf = parsed.locate(['benchmark', 'concurrency_list'], 'key');
  const accuracy = new Map<string, Pos>();
  const value = parsed.value as { metadata?: { accuracy?: { datasets?: unknown } } } | undefined;
  const datasets = value?.metadata?.accuracy?.datasets;
  if (Array.isArray(datasets)) {
    datasets.forEach((ds: unknown, i) => {
      if (!ds || typeof ds !== 'object') return;
      const name = datasetName(ds as AccuracyDatasetConfig);
      // Several entries of one dataset: the first one's line (the verdicts name only the dataset).
      if (!accuracy.has(name))
        accuracy.set(name, parsed.locate(['metadata', 'accuracy', 'datasets', i, 'expected_value'], 'key'));
    });
  }
  return { perf, accuracy };
}

/**
 * Turn one YAML config into a Vitest test module. The calls are literal (`describe("stress", …)`,
 * `disaggTest("<id>", { tags: [...] }, …)`) so that `vitest list --static-parse` and the VS Code
 * extension see names and tags without running anything; the source map points them at the YAML.
 */
export function generateModule(
  entry: ConfigEntry,
  tags: readonly string[],
  source: string,
  runtimeModule: string,
  /** Set when the file cannot be read as YAML: the test keeps its name and tags and fails with this. */
  loadError?: string,
  /** The file already parsed (the plugin reads each file once); parsed from `source` when not given. */
  parsed?: ParsedYaml,
): GeneratedModule {
  const at = firstKeyLine(source);
  const body =
    loadError === undefined
      ? BODY[entry.category]
      : `() => { throw new Error(${JSON.stringify(loadError)}); }`;
  const top = { line: 1, column: 1 };
  // A file that failed to load never reaches a verdict: its test throws the load error.
  const where =
    loadError === undefined
      ? verdictPositions(parsed ?? parseYaml(source, entry.file))
      : { perf: top, accuracy: new Map<string, Pos>() };
  const lines: Array<[string, Pos]> = [
    [`import { describe } from 'vitest';`, top],
    [`import { disaggTest } from ${JSON.stringify(runtimeModule)};`, top],
    [`const ${AT} = { accuracy: {} };`, top],
    [`${AT}.perf = ${THROWER};`, where.perf],
    ...[...where.accuracy].map(([name, pos]): [string, Pos] => [
      `${AT}.accuracy[${JSON.stringify(name)}] = ${THROWER};`,
      pos,
    ]),
    [`describe(${JSON.stringify(entry.category)}, () => {`, at],
    [
      `  disaggTest(${JSON.stringify(entry.testId)}, { tags: [${tags.map((t) => JSON.stringify(t)).join(', ')}] }, ${body});`,
      at,
    ],
    [`});`, at],
  ];
  const code = lines.map(([l]) => l).join('\n') + '\n';
  return {
    code,
    map: lineSourceMap(
      entry.file,
      // A file refused for its size is not carried into the source map.
      loadError === undefined ? source : source.slice(0, 64 * 1024),
      lines.map(([, pos]) => pos),
    ),
  };
}
