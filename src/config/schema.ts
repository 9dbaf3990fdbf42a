// JSON-Schema validation (ajv) with messages a person can act on, located via the YAML positions.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Problem } from '../types.js';
import type { ParsedYaml } from './load.js';
import { closestKey, type PathSegments } from './problems.js';

type JsonObject = { [k: string]: unknown };

const SCHEMA_REL = path.join('schema', 'disagg-config.schema.json');

/** Absolute path of the shipped JSON Schema (found by walking up: works from src/ and dist/src/). */
export function schemaPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, SCHEMA_REL);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`Cannot find ${SCHEMA_REL} above ${fileURLToPath(import.meta.url)}`);
}

let cached: { schema: JsonObject; validate: ValidateFunction } | undefined;

/** The parsed JSON Schema object. */
export function configSchema(): JsonObject {
  return compiled().schema;
}

function compiled(): { schema: JsonObject; validate: ValidateFunction } {
  if (!cached) {
    const schema = JSON.parse(fs.readFileSync(schemaPath(), 'utf8')) as JsonObject;
    // verbose: errors carry data/schema/parentSchema, which the messages below need.
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    cached = { schema, validate: ajv.compile(schema) };
  }
  return cached;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeAccepts(schemaType: unknown, v: unknown): boolean {
  const types = Array.isArray(schemaType) ? schemaType : [schemaType];
  const t = jsonType(v);
  return types.some((s) => s === t || (s === 'number' && t === 'integer'));
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'number',
  integer: 'number',
  string: 'string',
  boolean: 'boolean (true or false)',
  object: 'a mapping (key: value pairs)',
  array: 'a list',
  null: 'empty',
};

function typeMessage(expected: unknown, data: unknown): string {
  const list = (Array.isArray(expected) ? expected : [expected]).map(String);
  if (list.length === 1 && list[0] === 'integer' && typeof data === 'number') {
    return `must be a whole number, got ${data}`;
  }
  const names = [...new Set(list.map((t) => TYPE_NAMES[t] ?? t))];
  let msg = `must be ${names.join(' or ')}, got ${describe(data)}`;
  if (typeof data === 'string' && (list.includes('number') || list.includes('integer'))) {
    if (/^\s*-?\d+(\.\d+)?\s*$/.test(data)) msg += ' (remove the quotes)';
    else if (/^\s*\d+(\.\d+)?\s*[kK]\s*$/.test(data))
      msg += ` (write the number of tokens, e.g. 1024 for 1k)`;
  }
  return msg;
}

function segmentsOf(instancePath: string): Array<string | number> {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, segs: PathSegments): unknown {
  let cur = root;
  for (const s of segs) {
    if (Array.isArray(cur) && typeof s === 'number') cur = cur[s];
    else if (isObject(cur)) cur = cur[String(s)];
    else return undefined;
  }
  return cur;
}

/** Keys that people put in the wrong section (docs that drifted from the code); say where they go. */
const MOVED_KEYS: Record<string, string> = {
  'benchmark.metrics': 'metadata.metrics',
  'accuracy.datasets': 'metadata.accuracy.datasets',
  'metadata.concurrency_list': 'benchmark.concurrency_list',
  'metadata.input_length': 'benchmark.input_length',
  'metadata.output_length': 'benchmark.output_length',
};

/** Drop anyOf branch noise: keep the errors of the one branch whose type fits, else one summary. */
function foldAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  let out = errors;
  for (const a of anyOfs) {
    const branches = Array.isArray(a.schema) ? (a.schema as unknown[]) : [];
    const prefix = `${a.schemaPath}/`;
    const fitting = branches
      .map((b, i) => ({ b, i }))
      .filter(({ b }) => isObject(b) && (b.type === undefined || typeAccepts(b.type, a.data)));
    if (fitting.length === 1) {
      const keep = `${prefix}${fitting[0].i}/`;
      out = out.filter((e) => e !== a && (!e.schemaPath.startsWith(prefix) || e.schemaPath.startsWith(keep)));
    } else {
      out = out.filter((e) => !e.schemaPath.startsWith(prefix));
    }
  }
  return out;
}

function branchTitles(e: ErrorObject): string[] {
  const branches = Array.isArray(e.schema) ? (e.schema as unknown[]) : [];
  return branches.map((b) =>
    isObject(b) && typeof b.title === 'string'
      ? b.title
      : (TYPE_NAMES[String(isObject(b) ? b.type : '')] ?? 'another shape'),
  );
}

function toProblem(e: ErrorObject, parsed: ParsedYaml, root: unknown, strict: boolean): Problem {
  const segs = segmentsOf(e.instancePath);
  const err = (message: string, s: PathSegments = segs, at: 'key' | 'value' = 'value'): Problem =>
    parsed.problem('error', s, message, { at, source: 'schema' });
  const data = e.data;
  const parent = isObject(e.parentSchema) ? e.parentSchema : {};
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const at = [...segs, key];
      const dotted = [...segs, key].join('.');
      const known = isObject(parent.properties) ? Object.keys(parent.properties) : [];
      let message = `unknown key "${key}"`;
      const moved = MOVED_KEYS[dotted];
      const guess = closestKey(key, known);
      if (moved) message += ` (it belongs at ${moved})`;
      else if (guess) message += ` (did you mean ${guess}?)`;
      else if (known.length > 0) message += `; known keys here: ${known.join(', ')}`;
      if (!strict) message += '; it is ignored';
      return parsed.problem(strict ? 'error' : 'warning', at, message, { at: 'key', source: 'schema' });
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      return err(`missing required key "${missing}"`, segs, segs.length ? 'key' : 'value');
    }
    case 'type':
      return err(typeMessage((e.params as { type: unknown }).type, data));
    case 'enum': {
      const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) =>
        JSON.stringify(v),
      );
      return err(`must be one of ${allowed.join(', ')}; got ${describe(data)}`);
    }
    case 'pattern': {
      const what =
        typeof parent.title === 'string'
          ? parent.title
          : `text matching /${String((e.params as { pattern: string }).pattern)}/`;
      return err(`must be ${what}, got ${describe(data)}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const p = e.params as { comparison: string; limit: number };
      return err(`must be ${p.comparison} ${p.limit}, got ${String(data)}`);
    }
    case 'minItems':
      return err(`must have at least ${(e.params as { limit: number }).limit} item(s), got an empty list`);
    case 'anyOf':
    case 'oneOf':
      return err(`must be ${branchTitles(e).join(', or ')}; got ${describe(data ?? valueAt(root, segs))}`);
    default:
      return err(e.message ?? `is invalid (${e.keyword})`);
  }
}

/** Validate a parsed config against the JSON Schema; unknown keys are warnings, errors under strict. */
export function validateSchema(
  value: unknown,
  parsed: ParsedYaml,
  { strict = false }: { strict?: boolean } = {},
): Problem[] {
  const { validate } = compiled();
  if (validate(value)) return [];
  const errors = foldAnyOf(validate.errors ?? []);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const e of errors) {
    const p = toProblem(e, parsed, value, strict);
    const key = `${p.severity}|${p.path}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}
