import type { Category, ConfigEntry } from '../types.js';
import { readRegularFileSync } from '../util/read-regular-file.js';
import { lineSourceMap, type LineSourceMap } from '../util/sourcemap.js';

export interface GeneratedModule {
  code: string;
  map: LineSourceMap;
}

/** One config to generate a test for: its entry and tags. */
export interface ConfigTest {
  entry: ConfigEntry;
  tags: readonly string[];
}

/**
 * The query of a YAML's verdict module: its throwers, loaded only when a verdict fails. Being a module of
 * the YAML file (with a map into it), Vitest draws the failure's code frame from the YAML.
 */
export const VERDICT_QUERY = '?disagg-verdict';

/**
 * A function on its own generated line: the Error it creates has that line's YAML position in its stack
 * (named, so the stack line reads `verdict <file>.yaml:<line>:<col>`).
 */
const THROWER = 'function verdict(message) { throw new Error(message); }';

/** The test body: the fixtures its category uses (lazy fixtures: only what is named runs). */
function body(c: ConfigTest): string {
  // The verdict source (fixtures/steps/report.ts): the config says where its keys are, the verdict module
  // throws from there.
  const at = `{ config: disaggConfig, load: () => import(${JSON.stringify(c.entry.file + VERDICT_QUERY)}) }`;
  const perf = `await disaggReport.perf(perf, ${at});`;
  const accuracy = `await disaggReport.accuracy(accuracy, ${at});`;
  const category: Category = c.entry.category;
  if (category === 'perf') return `async ({ perf, disaggConfig, disaggReport }) => { ${perf} }`;
  if (category === 'accuracy') return `async ({ accuracy, disaggConfig, disaggReport }) => { ${accuracy} }`;
  return `async ({ perf, accuracy, disaggConfig, disaggReport }) => { ${perf} ${accuracy} }`;
}

/**
 * The literal `disaggTest("<id>", { tags: [...] }, …)` call, which `vitest list --static-parse` and the
 * VS Code extension read without running anything. `meta`: the test names its YAML (a folder module,
 * whose tests are not their own file).
 */
function testCall(c: ConfigTest, meta: boolean): string {
  const tags = c.tags.map((t) => JSON.stringify(t)).join(', ');
  const options = meta
    ? `{ tags: [${tags}], meta: { disaggConfigFile: ${JSON.stringify(c.entry.file)} } }`
    : `{ tags: [${tags}] }`;
  return `disaggTest(${JSON.stringify(c.entry.testId)}, ${options}, ${body(c)});`;
}

function imports(runtimeModule: string): string[] {
  return [
    `import { describe } from 'vitest';`,
    `import { disaggTest } from ${JSON.stringify(runtimeModule)};`,
  ];
}

/**
 * A YAML test module's source as Vite loads it (our `load` hook, in place of Vite's own read): a regular
 * file within `maxBytes`, read once without blocking. A config that vanished, was swapped for a FIFO or
 * a device, or is over the bound gives an empty source: its test is still generated (listed, located
 * at line 1) and fails alone when it runs, where the fixture's loader says what is wrong with the file.
 * Vite's read would fail the module instead (`ERR_MODULE_NOT_FOUND`, the whole `vitest list`), or hang
 * on a FIFO.
 */
export function readYamlSource(file: string, maxBytes: number): string {
  try {
    return readRegularFileSync(file, { maxBytes }).toString('utf8');
  } catch {
    return '';
  }
}

/** Only the head of a file is scanned: a hostile file may be huge, and the loader refuses it anyway. */
const SCAN_LIMIT = 1024 * 1024;

type Pos = { line: number; column: number };

function headOf(source: string): string {
  return source.length > SCAN_LIMIT ? source.slice(0, SCAN_LIMIT) : source;
}

/** Line of the first top-level key (where the test "is" in the YAML), 1-based. */
function firstKeyLine(lines: readonly string[]): Pos {
  const idx = lines.findIndex((l) => /^[A-Za-z_][\w-]*\s*:/.test(l));
  return { line: idx < 0 ? 1 : idx + 1, column: 1 };
}

/** The keys a failed verdict points at: `benchmark.concurrency_list` and each dataset's `expected_value`. */
const VERDICT_KEY = /^(\s*(?:-\s+)?)(["']?)(?:concurrency_list|expected_value)\2\s*:/;

/**
 * Every line holding a key a failed verdict can point at, with the key's column. A line scan, not a
 * parse: the fixture, which parses the file anyway, picks the line of the key it means
 * (fixtures/steps/report.ts).
 */
export function verdictKeyLines(lines: readonly string[]): Pos[] {
  const found: Pos[] = [];
  lines.forEach((l, i) => {
    const m = VERDICT_KEY.exec(l);
    if (m) found.push({ line: i + 1, column: m[1].length + 1 });
  });
  return found;
}

/** A top-level `gates:` key (the perf gates of the config). */
const GATES_KEY = /^(["']?)gates\1\s*:/;
/** A top-level key: the end of the `gates:` block. */
const TOP_LEVEL_KEY = /^[^\s#-]/;

/**
 * Every line of the top-level `gates:` block (its key line, each entry and its keys; blank and comment
 * lines left out), each at its first character after any `- `: a failed gate points at its entry,
 * whichever line the parsed config locates it on (`- metric: …`, a `-` alone, a flow list).
 */
export function gateLines(lines: readonly string[]): Pos[] {
  const found: Pos[] = [];
  const start = lines.findIndex((l) => GATES_KEY.test(l));
  if (start < 0) return found;
  found.push({ line: start + 1, column: 1 });
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i];
    if (TOP_LEVEL_KEY.test(l)) break;
    const content = /^[\s-]*/.exec(l)?.[0].length ?? 0;
    if (content >= l.length || l[content] === '#') continue;
    found.push({ line: i + 1, column: content + 1 });
  }
  return found;
}

/**
 * Turn one YAML config into a Vitest test module, from its path alone (the file is parsed and validated
 * by the fixture when the test runs, so a broken file fails as its own test): generating 1,000 tests must
 * cost next to nothing. The source map points the test at the YAML's first key.
 */
export function generateModule(
  entry: ConfigEntry,
  tags: readonly string[],
  source: string,
  runtimeModule: string,
): GeneratedModule {
  const head = headOf(source);
  const at = firstKeyLine(head.split('\n'));
  const top = { line: 1, column: 1 };
  const generated: Array<[string, Pos]> = [
    ...imports(runtimeModule).map((l): [string, Pos] => [l, top]),
    [`describe(${JSON.stringify(entry.category)}, () => {`, at],
    [`  ${testCall({ entry, tags }, false)}`, at],
    [`});`, at],
  ];
  return {
    code: generated.map(([l]) => l).join('\n') + '\n',
    map: lineSourceMap(
      entry.file,
      head,
      generated.map(([, pos]) => pos),
    ),
  };
}

/**
 * A YAML's verdict module (`<file>?disagg-verdict`, see `VerdictLocations` in fixtures/steps/report.ts):
 * a thrower at every `concurrency_list` / `expected_value` key line, at every line of the `gates:` block
 * and one at the first key, each mapped to its line, so a failed verdict's location and code frame are that line of the YAML.
 */
export function generateVerdictModule(file: string, source: string): GeneratedModule {
  const head = headOf(source);
  const lines = head.split('\n');
  const top = { line: 1, column: 1 };
  const generated: Array<[string, Pos]> = [
    [`export const lines = {};`, top],
    [`export const test = ${THROWER};`, firstKeyLine(lines)],
    ...[...verdictKeyLines(lines), ...gateLines(lines)].map((pos): [string, Pos] => [
      `lines[${pos.line}] = ${THROWER};`,
      pos,
    ]),
  ];
  return {
    code: generated.map(([l]) => l).join('\n') + '\n',
    map: lineSourceMap(
      file,
      head,
      generated.map(([, pos]) => pos),
    ),
  };
}

/**
 * One test module for many configs of one category (option `testModules: 'folder'`): a test per config,
 * each naming its YAML in its meta, located at its own line here. Failed verdicts still point at their
 * YAML (each test loads its YAML's verdict module).
 */
export function generateFolderModule(
  category: Category,
  configs: readonly ConfigTest[],
  runtimeModule: string,
): string {
  const lines = [
    `// Generated by vitest-disagg (option testModules): one test per YAML of this folder. Rewritten on every run.`,
    ...imports(runtimeModule),
    // Concurrent: each test waits on its own job, and is judged as that job ends, not after the others.
    `describe(${JSON.stringify(category)}, { concurrent: true }, () => {`,
    ...configs.flatMap((c) => [`  // ${c.entry.file}`, `  ${testCall(c, true)}`]),
    `});`,
  ];
  return lines.join('\n') + '\n';
}
