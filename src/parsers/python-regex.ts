// Converts a Python `re.VERBOSE | re.MULTILINE` pattern (what the original framework's configs
// carry in `metrics.extractor_pattern`) to a JavaScript RegExp with the same meaning.

export class PythonRegexError extends Error {}

const GLOBAL_FLAGS = /^\(\?([aiLmsux]+)\)/;

/**
 * Translate the pattern text. Python semantics kept:
 * - VERBOSE: unescaped whitespace and `#` comments outside character classes are dropped,
 *   `\ ` is a literal space (`\#` a literal `#`).
 * - `.` never matches `\n` but does match `\r` (JS `.` stops at `\r`, which tqdm bars are full of).
 * - `(?P<n>…)`, `(?P=n)`, `(?#…)`, `\A`, `\Z`, a leading `]` in a class, leading global flags.
 */
export function convertPythonPattern(pattern: string): { source: string; flags: string } {
  let rest = pattern.replace(/^\s+/, '');
  let extraFlags = '';
  let m: RegExpExecArray | null;
  while ((m = GLOBAL_FLAGS.exec(rest)) !== null) {
    for (const f of m[1]) {
      if (f === 'i' && !extraFlags.includes('i')) extraFlags += 'i';
      if (f === 's' && !extraFlags.includes('s')) extraFlags += 's';
    }
    rest = rest.slice(m[0].length).replace(/^\s+/, '');
  }
  const dotAll = extraFlags.includes('s');
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\') {
      const n = rest[i + 1];
      i++;
      if (n === undefined) throw new PythonRegexError('pattern ends with a lone backslash');
      if (!inClass && /\s/.test(n)) out += n === ' ' ? ' ' : `\\${n}`;
      else if (!inClass && n === '#') out += '#';
      else if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'Z') out += '(?![\\s\\S])';
      else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (c === '#') {
      while (i < rest.length && rest[i] !== '\n') i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += '[';
      if (rest[i + 1] === '^') out += rest[++i];
      // Python reads a `]` right after `[` or `[^` as a literal; JS would read an empty class.
      if (rest[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      const tail = rest.slice(i);
      const named = /^\(\?P<(\w+)>/.exec(tail);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length - 1;
        continue;
      }
      const backref = /^\(\?P=(\w+)\)/.exec(tail);
      if (backref) {
        out += `\\k<${backref[1]}>`;
        i += backref[0].length - 1;
        continue;
      }
      if (tail.startsWith('(?#')) {
        const end = rest.indexOf(')', i);
        i = end === -1 ? rest.length : end;
        continue;
      }
      if (/^\(\?[aiLmsux-]+[:)]/.test(tail)) {
        throw new PythonRegexError(
          `inline flags inside the pattern are not supported (${tail.slice(0, 8)}…); put them at the start`,
        );
      }
    }
    if (c === '.' && !dotAll) {
      out += '[^\\n]';
      continue;
    }
    out += c;
  }
  if (inClass) throw new PythonRegexError('unterminated character class');
  return { source: out, flags: `gm${extraFlags.replace('s', '')}${dotAll ? 's' : ''}` };
}

/** Compile a Python VERBOSE+MULTILINE pattern; throws PythonRegexError with the reason. */
export function compilePythonPattern(pattern: string): RegExp {
  const { source, flags } = convertPythonPattern(pattern);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new PythonRegexError(`invalid extractor_pattern: ${(err as Error).message}`);
  }
}
