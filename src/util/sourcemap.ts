// Minimal v3 source map: each generated line maps (column 0) to one line of the source.
// Enough for Vitest to report test locations and code frames in the YAML file.

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function vlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit];
  } while (v > 0);
  return out;
}

export interface LineSourceMap {
  version: 3;
  file: string;
  sources: string[];
  sourcesContent: string[];
  names: string[];
  mappings: string;
}

/**
 * @param sourceLines for each generated line (0-based index), the 1-based source line it comes from,
 *   and the 1-based column.
 */
export function lineSourceMap(
  file: string,
  sourceContent: string,
  sourceLines: Array<{ line: number; column: number }>,
): LineSourceMap {
  let prevLine = 0;
  let prevCol = 0;
  const segments = sourceLines.map(({ line, column }) => {
    // fields: generated column, source index (delta), source line (delta), source column (delta)
    const srcLine = line - 1;
    const srcCol = Math.max(0, column - 1);
    const seg = vlq(0) + vlq(0) + vlq(srcLine - prevLine) + vlq(srcCol - prevCol);
    prevLine = srcLine;
    prevCol = srcCol;
    return seg;
  });
  return {
    version: 3,
    file,
    sources: [file],
    sourcesContent: [sourceContent],
    names: [],
    mappings: segments.join(';'),
  };
}
