// loadConfig / loadAll / validateFiles: discovery → YAML → schema → checks → placeholders → selection.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigEntry, DisaggConfig, LoadedConfig, Problem } from '../types.js';
import { semanticChecks, type CheckInput } from './checks.js';
import { discoverConfigs, entryForFile } from './discover.js';
import { bytePosition, type ConfigLimits, invalidUtf8Offset, limitsOf } from './limits.js';
import { parseYaml, type ParsedYaml } from './load.js';
import { resolvePlaceholders } from './placeholders.js';
import { toUpstreamFormat, upstreamFormatNotice } from './upstream-format.js';
import { sortProblems } from './problems.js';
import { validateSchema } from './schema.js';
import { FileReadError, readRegularFileSync } from '../util/read-regular-file.js';
import { DEFAULT_GPU_TYPE, gpuSkipReason } from './select.js';

/** What loading needs from the settings core (`ResolvedOptions` has all three); nothing is read from env. */
export interface LoadContext {
  /** Values for placeholders (`ResolvedOptions.placeholderVars`); default none. */
  vars?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths given to validateFiles (default process.cwd()). */
  cwd?: string;
  /** GPU type to select for (default GB200). */
  gpuType?: string;
  /** Over-concurrency and unknown keys are errors instead of warnings. */
  strict?: boolean;
  /** Bounds on one file (`ResolvedOptions.configLimits`); defaults DEFAULT_CONFIG_LIMITS. */
  limits?: Partial<ConfigLimits>;
  /**
   * Checks of later stages, run with the semantic checks on the file as written (the perf gates:
   * `gateConfigProblems` of src/stats/gate-config.ts; this stage knows no metric names).
   */
  extraChecks?: (input: CheckInput) => Problem[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rootProblem(file: string, message: string, source: Problem['source']): Problem {
  return { severity: 'error', file, line: 1, column: 1, path: '(root)', message, source };
}

/** sha256 over the file bytes and the variables its placeholders resolved from (sorted). */
function hashOf(bytes: Buffer, vars: Record<string, string>): string {
  const h = createHash('sha256').update(bytes);
  for (const k of Object.keys(vars).sort()) h.update(`\0${k}=${vars[k]}`);
  return h.digest('hex');
}

export interface ReadYaml {
  bytes: Buffer;
  parsed: ParsedYaml;
  /** Read, size, encoding and YAML problems (syntax, limits, duplicate keys). */
  problems: Problem[];
  /** The bytes were read and decoded; `parsed` is the file's content. */
  readOk: boolean;
}

/**
 * Read and parse one file within `limits`: too large and invalid UTF-8 are refused before parsing.
 * Never throws.
 */
export function readYamlFile(file: string, limits?: Partial<ConfigLimits>): ReadYaml {
  const lim = limitsOf(limits);
  const fail = (message: string, pos = { line: 1, column: 1 }): ReadYaml => ({
    bytes: Buffer.alloc(0),
    parsed: parseYaml('', file),
    problems: [{ ...rootProblem(file, message, 'yaml'), ...pos }],
    readOk: false,
  });
  let bytes: Buffer;
  try {
    // One open, the bound applied to that descriptor: a huge file, a FIFO or a device (a symlink to
    // /dev/zero) is never read, and opening a FIFO cannot hang the process.
    bytes = readRegularFileSync(file, { maxBytes: lim.maxBytes });
  } catch (e) {
    if (e instanceof FileReadError && e.code === 'EFBIG') {
      return fail(
        (e.size === undefined
          ? `the file grew beyond the limit of ${lim.maxBytes} bytes while being read`
          : `the file is ${e.size} bytes, more than the limit of ${lim.maxBytes} bytes`) +
          '; split it, or raise the limit (option maxConfigBytes or env DISAGG_MAX_CONFIG_BYTES)',
      );
    }
    // A FileReadError names the file and says what is wrong (missing, a FIFO, a device, no permission).
    return fail(e instanceof FileReadError ? e.message : `cannot read file: ${String(e)}`);
  }
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const r = fail(
      `invalid UTF-8 at byte offset ${bad} (byte 0x${bytes[bad].toString(16).padStart(2, '0')}); save the file as UTF-8`,
      bytePosition(bytes, bad),
    );
    return { ...r, bytes };
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const parsed = parseYaml(text, file, lim);
  return { bytes, parsed, problems: [...parsed.problems], readOk: true };
}

/**
 * Load one config. Never throws for bad content: unreadable files, YAML syntax errors, schema and
 * semantic errors all become `problems` with file, YAML path and 1-based line:column.
 */
export function loadConfig(entry: ConfigEntry, ctx: LoadContext = {}): LoadedConfig {
  const { bytes, parsed, problems, readOk } = readYamlFile(entry.file, ctx.limits);

  let config: DisaggConfig = {};
  const yamlOk = !parsed.problems.some((p) => p.severity === 'error') && readOk;
  if (yamlOk) {
    if (parsed.value === null || parsed.value === undefined) {
      problems.push(
        rootProblem(
          entry.file,
          'the file is empty; expected a mapping with metadata, benchmark and worker_config',
          'schema',
        ),
      );
    } else {
      problems.push(...validateSchema(parsed.value, parsed, { strict: ctx.strict }));
      if (isObject(parsed.value)) {
        config = parsed.value as DisaggConfig;
        const input: CheckInput = { config, category: entry.category, parsed, strict: ctx.strict };
        problems.push(...semanticChecks(input));
        if (ctx.extraChecks) problems.push(...ctx.extraChecks(input));
      }
    }
  }

  const r = resolvePlaceholders(config, ctx.vars ?? {});
  // After validation (problems point at the file as written), before anyone uploads it.
  const upstream = toUpstreamFormat(r.config);
  config = upstream.config;
  const { resolvedVars, unresolved } = r;

  const skipReason = gpuSkipReason(config, ctx.gpuType || DEFAULT_GPU_TYPE);
  return {
    ...entry,
    config,
    problems: sortProblems(problems),
    ...(skipReason ? { skipReason } : {}),
    ...(upstream.moved.length ? { formatMoves: upstream.moved } : {}),
    hash: hashOf(bytes, resolvedVars),
    resolvedVars,
    unresolved,
    locate: parsed.locate,
  };
}

export interface LoadAllResult {
  configDir: string;
  configs: LoadedConfig[];
  /** Things left out by discovery (e.g. perf-sanity); for the caller to print once. */
  notices: string[];
}

/** Discover and load every config under `configDir` (throws only if the directory is missing). */
export function loadAll(configDir: string, ctx: LoadContext = {}): LoadAllResult {
  const found = discoverConfigs(configDir);
  return {
    configDir: found.configDir,
    configs: found.entries.map((e) => loadConfig(e, ctx)),
    notices: found.notices,
  };
}

export interface ValidateResult {
  configs: LoadedConfig[];
  notices: string[];
  /** Paths that do not exist. */
  missing: string[];
}

/**
 * Load the configs behind `paths`: a directory is a config root (discovered like the config dir), a
 * file is one config whose type/category come from its folders (`<type>/<category>/x.yaml`), else
 * disagg/stress.
 */
export function validateFiles(paths: readonly string[], ctx: LoadContext = {}): ValidateResult {
  const cwd = ctx.cwd ?? process.cwd();
  const configs: LoadedConfig[] = [];
  const notices: string[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (!st) missing.push(p);
    else if (st.isDirectory()) {
      const r = loadAll(abs, ctx);
      configs.push(...r.configs);
      notices.push(...r.notices);
    } else configs.push(loadConfig(entryForFile(abs), ctx));
  }
  for (const c of configs) {
    if (c.formatMoves)
      notices.push(upstreamFormatNotice(path.relative(cwd, c.file) || c.file, c.formatMoves));
  }
  return { configs, notices, missing };
}
