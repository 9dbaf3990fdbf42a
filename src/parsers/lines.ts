// Line-level helpers shared by the log parsers.

/**
 * Strip what `srun -l` and Windows line ends add to a line: the `<rank>: ` prefix and a `\r`.
 * Written with char codes instead of a regex because it runs once per line of multi-GB logs.
 */
export function cleanLine(raw: string): string {
  let line = raw;
  if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  let i = 0;
  // Optional leading spaces: srun pads the rank when several digits are in use (` 0: `).
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  const digitsStart = i;
  while (i < line.length && isDigit(line.charCodeAt(i))) i++;
  if (i > digitsStart && i + 1 < line.length + 1 && line.charCodeAt(i) === 58 /* : */) {
    const next = line.charCodeAt(i + 1);
    // `0: text` or a bare `0:` (empty line from rank 0).
    if (next === 32) return line.slice(i + 2);
    if (i + 1 === line.length) return '';
  }
  return line;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Split a whole text into lines the same way readline does (`\n`, with `\r\n` tolerated). */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  // A trailing newline does not start another line (readline semantics).
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
