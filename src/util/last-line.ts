import type { FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/**
 * The bytes after the last newline of an open file of `size` bytes, and the offset they start at (0 when
 * there is no newline). Reads backwards from the end in chunks, so only the tail is read; undefined when
 * no newline is found within the last `maxBytes`.
 */
export async function afterLastNewline(
  fh: FileHandle,
  size: number,
  maxBytes = Infinity,
): Promise<{ fragment: Buffer; cut: number } | undefined> {
  const parts: Buffer[] = [];
  for (let end = size; end > 0;) {
    if (size - end >= maxBytes) return undefined;
    const start = Math.max(0, end - CHUNK);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const nl = buf.lastIndexOf(10);
    if (nl >= 0) {
      parts.unshift(buf.subarray(nl + 1));
      return { fragment: Buffer.concat(parts), cut: start + nl + 1 };
    }
    parts.unshift(buf);
    end = start;
  }
  return { fragment: Buffer.concat(parts), cut: 0 };
}
