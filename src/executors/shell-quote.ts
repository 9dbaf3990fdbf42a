// POSIX shell quoting. Every value that reaches a shell (sbatch arguments from YAML, paths, job ids)
// goes through `shq`, so a config value such as `job_name: "x; touch /tmp/pwned"` stays one inert word.
import { ConfigError } from '../errors.js';

/** Characters that never need quoting in any POSIX shell word (not at the start of a command). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quote one value for a POSIX shell. Safe words are left bare so command lines stay readable;
 * everything else is wrapped in single quotes, where nothing is special except `'` itself,
 * which becomes `'\''` (close, escaped quote, reopen).
 */
export function shq(value: string | number): string {
  const s = String(value);
  if (s === '') return "''";
  if (SAFE_WORD.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote every word and join them with spaces: the exact command line for `bash -c`. */
export function shJoin(argv: readonly string[]): string {
  return argv.map((a) => shq(a)).join(' ');
}

/**
 * Split a string into words the way a POSIX shell would, but WITHOUT any expansion: quotes group
 * words, backslash escapes outside single quotes, and `$`, backticks, `;`, `|`, globs stay literal
 * characters inside the words. Used for `slurm.extra_args`, whose tokens are then quoted one by one.
 */
export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new ConfigError(`unterminated single quote in: ${input}`);
      current += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < input.length) {
        const d = input[i];
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        // Inside double quotes a backslash only escapes these characters (POSIX).
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1])) {
          current += input[i + 1];
          i += 2;
        } else {
          current += d;
          i += 1;
        }
      }
      if (!closed) throw new ConfigError(`unterminated double quote in: ${input}`);
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < input.length) {
        if (input[i + 1] !== '\n') current += input[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      i += 1;
    } else {
      current += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(current);
  return words;
}
