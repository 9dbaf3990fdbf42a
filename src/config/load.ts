// YAML parsing that keeps source positions, so every problem can point at a line and column.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ParsedNode,
} from 'yaml';
import type { Problem } from '../types.js';
import { checkDocument, type ConfigLimits, limitsOf, prescanText } from './limits.js';
import { formatPath, type PathSegments } from './problems.js';

export interface Position {
  line: number;
  column: number;
}

export interface ParsedYaml {
  /** Plain JS value, anchors/aliases and `<<` merge keys resolved; `undefined` after a syntax error. */
  value: unknown;
  /** YAML syntax errors and warnings (duplicate keys, bad indentation, …). */
  problems: Problem[];
  /** Position of the node at `segments` (the key when `at` is 'key'); falls back to the deepest parent. */
  locate(segments: PathSegments, at?: 'key' | 'value'): Position;
  /** Build a problem located at `segments`. */
  problem(
    severity: Problem['severity'],
    segments: PathSegments,
    message: string,
    opts?: { at?: 'key' | 'value'; source?: Problem['source'] },
  ): Problem;
}

type AnyNode = Node | ParsedNode;

function resolveAlias(doc: Document, node: unknown): unknown {
  // Guard against alias chains; yaml rejects cycles at parse time, this is belt and braces.
  let cur = node;
  for (let i = 0; i < 32 && isAlias(cur); i++) cur = cur.resolve(doc);
  return cur;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
}

interface Step {
  node: unknown;
  key?: unknown;
}

/** Find the pair for `seg` in a map, looking through `<<` merge keys like toJS does. */
function findInMap(doc: Document, map: unknown, seg: string, depth = 0): Step | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  for (const pair of map.items) {
    if (isPair(pair) && keyText(pair.key) === seg) return { node: pair.value, key: pair.key };
  }
  for (const pair of map.items) {
    if (!isPair(pair) || keyText(pair.key) !== '<<') continue;
    const src = resolveAlias(doc, pair.value);
    const sources = isSeq(src) ? src.items.map((s) => resolveAlias(doc, s)) : [src];
    for (const s of sources) {
      const hit = findInMap(doc, s, seg, depth + 1);
      if (hit) return hit;
    }
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const r = (node as AnyNode).range;
    if (r) return r[0];
  }
  return undefined;
}

/** 1-based line and column of a character offset. */
function textPosition(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Parse YAML text; never throws. `file` is only used to label problems. Work and memory are bounded by
 * `limits` (expanded nodes/bytes, keys per map, depth); duplicate keys are found in linear time here
 * because the yaml library's own check is quadratic.
 */
export function parseYaml(text: string, file: string, limits?: Partial<ConfigLimits>): ParsedYaml {
  const lim = limitsOf(limits);
  const lineCounter = new LineCounter();
  // Refused before parsing: the parser itself would take seconds on such text (see prescanText).
  const tooBig = prescanText(text, lim);
  const doc = parseDocument(tooBig ? '' : text, {
    lineCounter,
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
  });

  const posOf = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line, column: col };
  };

  const locate = (segments: PathSegments, at: 'key' | 'value' = 'value'): Position => {
    let node: unknown = doc.contents;
    let best = rangeStart(node) ?? 0;
    let lastKey: number | undefined;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const here = resolveAlias(doc, node);
      let step: Step | undefined;
      if (isMap(here)) step = findInMap(doc, here, String(seg));
      else if (isSeq(here) && typeof seg === 'number' && seg < here.items.length)
        step = { node: here.items[seg] };
      if (!step) {
        // Missing child: the parent's key line reads best ("metadata:" rather than its first entry).
        if (lastKey !== undefined) best = lastKey;
        break;
      }
      const last = i === segments.length - 1;
      const keyStart = rangeStart(step.key);
      const valueStart = rangeStart(step.node);
      // `key:` with no value has an empty null node; point at the key instead.
      const valueIsEmpty = isScalar(step.node) && step.node.value === null && step.node.source === '';
      if (last && at === 'key' && keyStart !== undefined) best = keyStart;
      else if (valueStart !== undefined && !valueIsEmpty) best = valueStart;
      else if (keyStart !== undefined) best = keyStart;
      lastKey = keyStart;
      node = step.node;
    }
    return posOf(best);
  };

  const problem: ParsedYaml['problem'] = (severity, segments, message, opts = {}) => {
    const { line, column } = locate(segments, opts.at);
    return { severity, file, line, column, path: formatPath(segments), message, source: opts.source };
  };

  /** The YAML path of the innermost node containing `offset` (for syntax errors). */
  const pathAt = (offset: number): PathSegments => {
    const segs: Array<string | number> = [];
    let node: unknown = doc.contents;
    for (let depth = 0; depth < 64; depth++) {
      let next: { seg: string | number; node: unknown } | undefined;
      if (isMap(node)) {
        for (const pair of node.items) {
          const k = keyText(pair.key);
          const start = rangeStart(pair.key);
          const v = pair.value as AnyNode | null;
          const end = v?.range?.[2] ?? (pair.key as AnyNode | null)?.range?.[2];
          if (
            k !== undefined &&
            start !== undefined &&
            end !== undefined &&
            offset >= start &&
            offset <= end
          ) {
            next = { seg: k, node: pair.value };
          }
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, idx) => {
          const r = (item as AnyNode | null)?.range;
          if (r && offset >= r[0] && offset <= r[2]) next = { seg: idx, node: item };
        });
      }
      if (!next) break;
      segs.push(next.seg);
      node = next.node;
    }
    return segs;
  };

  const problems: Problem[] = [];
  if (tooBig) {
    const { line, column } = textPosition(text, tooBig.offset);
    const message = tooBig.message;
    problems.push({ severity: 'error', file, line, column, path: '(root)', message, source: 'yaml' });
    return { value: undefined, problems, locate, problem };
  }
  for (const err of doc.errors) {
    const segs = pathAt(err.pos[0]);
    // An unclosed quote/bracket is detected at the end of the file; point at where the value starts.
    const { line, column } =
      err.code === 'MISSING_CHAR' && segs.length > 0 ? locate(segs) : posOf(err.pos[0]);
    problems.push({
      severity: 'error',
      file,
      line,
      column,
      path: formatPath(segs),
      message: /Maximum call stack size exceeded/.test(err.message)
        ? `YAML syntax error: nesting is too deep to parse (the limit is ${lim.maxDepth} levels); flatten the structure`
        : `YAML syntax error: ${err.message.replace(/\s+/g, ' ').trim()}`,
      source: 'yaml',
    });
  }
  for (const w of doc.warnings) {
    const { line, column } = posOf(w.pos[0]);
    problems.push({
      severity: 'warning',
      file,
      line,
      column,
      path: formatPath(pathAt(w.pos[0])),
      message: `YAML: ${w.message.replace(/\s+/g, ' ').trim()}`,
      source: 'yaml',
    });
  }

  if (doc.errors.length === 0) problems.push(...checkDocument(doc, lineCounter, file, lim));

  let value: unknown;
  if (doc.errors.length === 0 && !problems.some((p) => p.severity === 'error')) {
    try {
      // checkDocument bounded the expanded size; toJS shares aliased nodes instead of copying them.
      value = doc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      problems.push({
        severity: 'error',
        file,
        line: 1,
        column: 1,
        path: '(root)',
        message: `YAML error: ${e instanceof Error ? e.message : String(e)}`,
        source: 'yaml',
      });
    }
  }
  return { value, problems, locate, problem };
}
