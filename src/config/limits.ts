// Bounds on what one config file may cost to load, so a hostile or broken file fails alone and fast
// instead of exhausting memory or CPU for the whole suite.
import { CST, type Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer, type LineCounter } from 'yaml';
import type { Problem } from '../types.js';
import { formatPath } from './problems.js';

export interface ConfigLimits {
  /** File size in bytes (option `maxConfigBytes`, env `DISAGG_MAX_CONFIG_BYTES`). */
  maxBytes: number;
  /** Scalar bytes after anchors/aliases are expanded. */
  maxExpandedBytes: number;
  /** Nodes (scalars, maps, sequences) after anchors/aliases are expanded. */
  maxNodes: number;
  /** Entries in one map. */
  maxKeysPerMap: number;
  /** Nesting depth of maps and sequences. */
  maxDepth: number;
  /** Alias uses (`*name`); the yaml library resolves each one with a scan over all of them. */
  maxAliases: number;
}

export const DEFAULT_CONFIG_LIMITS: Readonly<ConfigLimits> = {
  maxBytes: 1024 * 1024,
  maxExpandedBytes: 8 * 1024 * 1024,
  maxNodes: 100_000,
  maxKeysPerMap: 10_000,
  maxDepth: 64,
  maxAliases: 10_000,
};

export function limitsOf(partial: Partial<ConfigLimits> | undefined): ConfigLimits {
  return { ...DEFAULT_CONFIG_LIMITS, ...partial };
}

/** Byte offset of the first invalid UTF-8 sequence, or -1 when the bytes are valid UTF-8. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return -1;
  } catch {
    // The decoder does not say where; find it (only for files that are broken anyway).
  }
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [len, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, min] = [4, 0x10000];
    else return i;
    if (i + len > n) return i;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

/** 1-based line and column of a byte offset (columns count bytes). */
export function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export interface TextLimitHit {
  /** Character offset in the text where the limit was crossed. */
  offset: number;
  message: string;
}

/**
 * A linear lexical pass before parsing: the yaml parser takes seconds (and overflows its stack) on
 * very deep nesting, and its alias resolution is quadratic, so those are refused here from the tokens.
 * Scalars are counted too, as a lower bound of the node count.
 */
export function prescanText(text: string, limits: ConfigLimits): TextLimitHit | undefined {
  let offset = 0;
  let flowDepth = 0;
  let lineIndicators = 0;
  let scalars = 0;
  let aliases = 0;
  let lineStart = 0;
  // Block maps: keys seen per indentation level (a stack), so a 100k-key map is refused before the
  // parser spends seconds on it. Sequence items close the levels below them.
  const indents: number[] = [];
  const counts: number[] = [];
  let keyColumn = 0;
  const closeBelow = (column: number): void => {
    while (indents.length > 0 && indents[indents.length - 1] > column) {
      indents.pop();
      counts.pop();
    }
  };
  for (const tok of new Lexer().lex(text)) {
    const start = offset;
    // Lexer control markers (document, scalar, flow-end) take no room in the source.
    if (tok.length !== 1 || tok.charCodeAt(0) >= 0x20 || tok === '\n' || tok === '\t') offset += tok.length;
    const nl = tok.lastIndexOf('\n');
    if (nl >= 0) lineStart = start + nl + 1;
    const type = CST.tokenType(tok);
    if (type === 'scalar' || type === 'single-quoted-scalar' || type === 'double-quoted-scalar') {
      keyColumn = start - lineStart;
    }
    switch (type) {
      case 'map-value-ind':
        if (flowDepth > 0) break;
        closeBelow(keyColumn);
        if (indents.length > 0 && indents[indents.length - 1] === keyColumn) counts[counts.length - 1]++;
        else {
          indents.push(keyColumn);
          counts.push(1);
        }
        if (counts[counts.length - 1] > limits.maxKeysPerMap) {
          return { offset: start, message: `a map has more than ${limits.maxKeysPerMap} keys; ${HINT}` };
        }
        break;
      case 'flow-seq-start':
      case 'flow-map-start':
        flowDepth++;
        break;
      case 'flow-seq-end':
      case 'flow-map-end':
        flowDepth = Math.max(0, flowDepth - 1);
        break;
      case 'seq-item-ind':
        closeBelow(start - lineStart);
        lineIndicators++;
        break;
      case 'explicit-key-ind':
        lineIndicators++;
        break;
      case 'newline':
        lineIndicators = 0;
        break;
      case 'alias':
        if (++aliases > limits.maxAliases) {
          return {
            offset: start,
            message: `more than ${limits.maxAliases} aliases (*name); ${HINT}`,
          };
        }
        break;
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
        if (++scalars > limits.maxNodes) {
          return { offset: start, message: `more than ${limits.maxNodes} values; ${HINT}` };
        }
        break;
      default:
        break;
    }
    // `- - - x` nests one level per indicator on a line; flow brackets one level each.
    if (flowDepth + lineIndicators > limits.maxDepth) {
      return {
        offset: start,
        message: `nesting is deeper than ${limits.maxDepth} levels; flatten the structure`,
      };
    }
  }
  return undefined;
}

const HINT = 'split the file or remove the repeated/oversized part';

/**
 * Walk the parsed document with aliases followed, counting expanded nodes and bytes, and checking keys
 * per map, nesting depth and duplicate keys. Work is bounded by `maxNodes` visits whatever the file
 * holds (a "billion laughs" file stops at the budget). Problems carry the position of the offending node.
 */
export function checkDocument(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  limits: ConfigLimits,
): Problem[] {
  const problems: Problem[] = [];
  let nodes = 0;
  let bytes = 0;
  const checkedMaps = new Set<unknown>();
  const segs: Array<string | number> = [];

  const at = (node: unknown, severity: Problem['severity'], message: string): Problem => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    const { line, col } = lineCounter.linePos(range?.[0] ?? 0);
    return { severity, file, line, column: col, path: formatPath(segs), message, source: 'yaml' };
  };
  // Inside an alias expansion a limit is reported where the alias is used, not at its anchor.
  let aliasUse: unknown;
  const stop = (node: unknown, message: string): false => {
    problems.push(at(expanding > 0 ? aliasUse : node, 'error', message));
    return false;
  };

  // Aliases resolved in one pass (Alias.resolve scans the whole document per call): walking in
  // document order, an alias refers to the latest anchor of its name met outside alias expansions.
  const anchors = new Map<string, unknown>();
  const targets = new Map<unknown, unknown>();
  let expanding = 0;

  // Returns false once a limit is hit (the walk stops: one clear error is enough).
  const walk = (raw: unknown, depth: number): boolean => {
    if (isAlias(raw)) {
      let target = targets.get(raw);
      if (target === undefined) {
        target = anchors.get(raw.source);
        targets.set(raw, target ?? null);
      }
      // An unknown anchor is a syntax error the parser already reported.
      if (!target) return true;
      if (expanding === 0) aliasUse = raw;
      expanding++;
      const ok = walk(target, depth);
      expanding--;
      return ok;
    }
    const node = raw;
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor && expanding === 0) anchors.set(anchor, node);
    if (++nodes > limits.maxNodes) {
      return stop(
        raw,
        `the document expands to more than ${limits.maxNodes} nodes (anchors/aliases counted each time they are used); ${HINT}`,
      );
    }
    if (isScalar(node)) {
      const v = node.value;
      bytes += typeof v === 'string' ? v.length : 8;
      if (bytes > limits.maxExpandedBytes) {
        return stop(
          raw,
          `the document expands to more than ${limits.maxExpandedBytes} bytes of values (anchors/aliases counted each time they are used); ${HINT}`,
        );
      }
      return true;
    }
    if (!isMap(node) && !isSeq(node)) return true;
    if (depth >= limits.maxDepth) {
      return stop(raw, `nesting is deeper than ${limits.maxDepth} levels; flatten the structure`);
    }
    if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        segs.push(i);
        const ok = walk(node.items[i], depth + 1);
        segs.pop();
        if (!ok) return false;
      }
      return true;
    }
    if (node.items.length > limits.maxKeysPerMap) {
      return stop(
        raw,
        `a map has ${node.items.length} keys, more than the limit of ${limits.maxKeysPerMap}; ${HINT}`,
      );
    }
    // Duplicate keys: one hash set per map, once per map however often it is aliased (linear).
    const firstVisit = !checkedMaps.has(node);
    checkedMaps.add(node);
    const seen = firstVisit ? new Map<string, unknown>() : undefined;
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      const name = key === undefined || key === null ? undefined : String(key);
      if (seen && name !== undefined && name !== '<<') {
        const id = `${typeof key}:${name}`;
        const first = seen.get(id);
        if (first !== undefined) {
          const prev = (first as { range?: [number, number, number] }).range;
          const prevLine = prev ? lineCounter.linePos(prev[0]).line : undefined;
          segs.push(name);
          problems.push(
            at(
              pair.key,
              'error',
              `YAML syntax error: Map keys must be unique; "${name}" is already a key${prevLine ? ` on line ${prevLine}` : ''}`,
            ),
          );
          segs.pop();
        } else seen.set(id, pair.key);
      }
      if (!walk(pair.key, depth + 1)) return false;
      segs.push(name ?? '?');
      const ok = walk(pair.value, depth + 1);
      segs.pop();
      if (!ok) return false;
    }
    return true;
  };
  walk(doc.contents, 0);
  return problems;
}
