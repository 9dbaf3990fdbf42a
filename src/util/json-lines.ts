// The tolerant reader of every JSON-lines file we read (history.jsonl): a torn or garbage line is
// skipped and reported by line number, never fatal. A crash or a full disk leaves exactly such a line,
// and one bad line must not fail every later test that reads the file.

/** One parsed line: its 1-based number and value. */
export interface JsonLine<T = unknown> {
  line: number;
  value: T;
}

/** A line that was left out, and why. */
export interface SkippedLine {
  line: number;
  reason: string;
}

export interface JsonLines<T = unknown> {
  lines: Array<JsonLine<T>>;
  skipped: SkippedLine[];
}

/**
 * Every non-blank line of `text` parsed as JSON. `accept` may reject a parsed value (throw: its message
 * is the reason); a line that is not JSON or is rejected goes to `skipped`.
 */
export function parseJsonLines<T = unknown>(
  text: string,
  accept: (value: unknown, line: number) => T = (v) => v as T,
): JsonLines<T> {
  const lines: Array<JsonLine<T>> = [];
  const skipped: SkippedLine[] = [];
  const raws = text.split('\n');
  raws.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      // The last line without its newline: a write that stopped short (crash, full disk).
      const torn = i === raws.length - 1;
      skipped.push({
        line,
        reason: `not JSON (${(err as Error).message})${torn ? ', a torn last line' : ''}`,
      });
      return;
    }
    try {
      lines.push({ line, value: accept(value, line) });
    } catch (err) {
      skipped.push({ line, reason: (err as Error).message });
    }
  });
  return { lines, skipped };
}

/** One notice for all skipped lines of `file` (undefined when none): file, line numbers and reasons. */
export function skippedNotice(file: string, skipped: readonly SkippedLine[]): string | undefined {
  if (skipped.length === 0) return undefined;
  const shown = skipped
    .slice(0, 3)
    .map((s) => `line ${s.line}: ${s.reason}`)
    .join('; ');
  const more = skipped.length > 3 ? `; and ${skipped.length - 3} more` : '';
  return (
    `${file}: skipped ${skipped.length} damaged line(s) (${shown}${more}); the other lines were read. ` +
    `Fix or delete the line(s) if they matter`
  );
}
