// Selection: which configs run here (GPU type) and which a test-list file asks for.
import type { ConfigEntry, DisaggConfig } from '../types.js';
import { pytestMethodOf } from './naming.js';
import { ConfigError } from '../errors.js';
import { readRegularFileSync } from '../util/read-regular-file.js';

export const DEFAULT_GPU_TYPE = 'GB200';
/** What the original assumes when a config has no supported_gpus. */
export const DEFAULT_SUPPORTED_GPUS: readonly string[] = ['GB200', 'GB300', 'H100', 'B200', 'B300'];

/** GPU type for filtering: cluster variants like `GB200_LYRIS` count as `GB200`. */
export function filterGpuType(gpuType: string): string {
  const up = gpuType.toUpperCase();
  return up.startsWith('GB200_') ? 'GB200' : up;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** metadata.supported_gpus ∪ hardware.supported_gpus, or the default list when neither is given. */
export function supportedGpus(config: DisaggConfig): string[] {
  const meta = stringList(config.metadata?.supported_gpus);
  const hw = stringList(config.hardware?.supported_gpus);
  if (!meta && !hw) return [...DEFAULT_SUPPORTED_GPUS];
  return [...new Set([...(meta ?? []), ...(hw ?? [])])];
}

/** Skip reason when the config does not run on `gpuType`, else undefined. */
export function gpuSkipReason(config: DisaggConfig, gpuType: string): string | undefined {
  const supported = supportedGpus(config);
  const want = filterGpuType(gpuType);
  if (supported.some((g) => g.toUpperCase() === want)) return undefined;
  const alias = want !== gpuType.toUpperCase() ? ` (as ${want})` : '';
  return `not supported on ${gpuType}${alias} (supported: ${supported.join(', ') || 'none'})`;
}

// ------------------------------------------------------------------------------------------------
// Test lists
// ------------------------------------------------------------------------------------------------

export interface TestListLine {
  /** The line as written (trimmed). */
  text: string;
  /** 1-based line number in the file. */
  line: number;
}

export interface TestList {
  file: string;
  entries: TestListLine[];
}

export interface TestListResult<T> {
  selected: T[];
  /** Listed lines that match no config (as written). */
  unmatched: string[];
}

/**
 * Read a test list: one test name or pytest node id per line; blank lines and `#` lines ignored.
 * Throws when the file is missing/unreadable or lists no ids (running nothing by accident is worse).
 */
export function readTestList(file: string): TestList {
  let text: string;
  try {
    // A test list is a few KB; 16 MB bounds a wrong path (a device, a log) without refusing a real one.
    text = readRegularFileSync(file, { maxBytes: 16 * 1024 * 1024 }).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `Test list file not found: ${file}`
        : `Cannot read test list file ${file}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const entries: TestListLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const t = raw.trim();
    if (t !== '' && !t.startsWith('#')) entries.push({ text: t, line: i + 1 });
  });
  if (entries.length === 0) {
    throw new ConfigError(
      `Test list file ${file} is empty or contains only comments: list one test name or pytest node id per line`,
    );
  }
  return { file, entries };
}

const NODE_ID =
  /(?:^|::|\/)(?:test_disagg\.py::)?TestDisaggBenchmark::(test_benchmark|test_accuracy|test_stress)\[(.+)\]$/;

// Upstream's perf-sanity harness: `perf/test_perf_sanity.py::test_e2e[disagg_upload-e2e-<stem>]`, with
// `disagg` or `disagg_upload`, and the benchmark mode before the stem in newer lists. A trailing
// ` TIMEOUT (90)` (upstream's test-db notation) is ignored.
const PERF_SANITY_ID =
  /(?:^|::|\/)test_perf_sanity\.py::test_e2e\[disagg(?:_upload)?-(?:(?:e2e|gen_only|gen_only_no_context|ctx_only)-)?(.+?)\](?:\s+TIMEOUT\s*\(\d+\))?$/;

/** What a test-list line asks for: a bare test name, or a pytest method + id. */
export function parseTestListLine(text: string): { testId: string; method?: string } {
  const m = NODE_ID.exec(text);
  if (m) return { method: m[1], testId: m[2] };
  const s = PERF_SANITY_ID.exec(text);
  return s ? { method: 'test_e2e', testId: `disagg_perf-sanity_${s[1]}` } : { testId: text };
}

/**
 * Keep the configs a test list names. A node id must also name the right method (test_stress for a
 * stress config …), as in the original; any path before `test_disagg.py::` is ignored so lists work
 * from any directory.
 */
export function applyTestList<T extends Pick<ConfigEntry, 'testId' | 'category' | 'folder'>>(
  configs: readonly T[],
  list: TestList | readonly string[],
): TestListResult<T> {
  const lines = Array.isArray(list)
    ? (list as readonly string[])
    : (list as TestList).entries.map((e) => e.text);
  const byId = new Map(configs.map((c) => [c.testId, c]));
  const chosen = new Set<T>();
  const unmatched: string[] = [];
  for (const text of lines) {
    const want = parseTestListLine(text);
    const hit = byId.get(want.testId);
    if (hit && (!want.method || want.method === pytestMethodOf(hit))) chosen.add(hit);
    else unmatched.push(text);
  }
  // Keep discovery order, not list order: runs stay deterministic whatever the list's order.
  return { selected: configs.filter((c) => chosen.has(c)), unmatched };
}
