import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tailRewriteRedoPath, tornFragmentPath } from '../../../src/jobdir/files.js';
import { finishTailRewrite, rewriteTail, TAIL_REWRITE_MAX_BYTES } from '../../../src/util/tail-rewrite.js';

let dir: string;
let file: string;
const files = () => ({ redo: tailRewriteRedoPath(file), aside: () => tornFragmentPath(file) });
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-rewrite-'));
  file = path.join(dir, 'history.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const LINES = ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'];
const text = () => fs.readFileSync(file, 'utf8');
/** Offset of line i (0-based) in LINES joined by newlines. */
const offsetOf = (i: number) => LINES.slice(0, i).reduce((n, l) => n + l.length + 1, 0);

describe('rewriteTail', () => {
  it('replaces one line with a longer or shorter one, leaving the lines before and after as they were', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    expect(
      await rewriteTail(
        file,
        offsetOf(1),
        LINES[1]!.length,
        Buffer.from('{"n":2,"parts":["a","b"]}'),
        files(),
      ),
    ).toBe(true);
    expect(text()).toBe('{"n":1}\n{"n":2,"parts":["a","b"]}\n{"n":3}\n{"n":4}\n');
    expect(await rewriteTail(file, offsetOf(1), 25, Buffer.from('{}'), files())).toBe(true);
    expect(text()).toBe('{"n":1}\n{}\n{"n":3}\n{"n":4}\n');
    // Nothing is left beside the file.
    expect(fs.readdirSync(dir)).toEqual(['history.jsonl']);
  });

  it('leaves a tail larger than its bound to the caller (false, nothing written)', async () => {
    const big = 'x'.repeat(TAIL_REWRITE_MAX_BYTES + 10);
    fs.writeFileSync(file, `{"n":1}\n${big}\n`);
    const before = text();
    expect(await rewriteTail(file, 0, 7, Buffer.from('{"n":9}'), files())).toBe(false);
    expect(text()).toBe(before);
    expect(fs.existsSync(tailRewriteRedoPath(file))).toBe(false);
  });

  it('refuses a symlink in the file’s place', async () => {
    fs.writeFileSync(path.join(dir, 'other'), LINES.join('\n') + '\n');
    fs.symlinkSync(path.join(dir, 'other'), file);
    await expect(rewriteTail(file, 0, 7, Buffer.from('{"n":9}'), files())).rejects.toThrow();
    expect(fs.readFileSync(path.join(dir, 'other'), 'utf8')).toBe(LINES.join('\n') + '\n');
  });
});

/** The redo file a rewrite of line 2 to `{"n":3,"x":1}` writes before it touches the file. */
function redoOfLine2(): string {
  const tail = Buffer.from('{"n":3,"x":1}\n{"n":4}\n');
  const old = Buffer.from('{"n":3}\n{"n":4}\n');
  const header = { offset: offsetOf(2), length: tail.length, old: old.length };
  fs.writeFileSync(
    tailRewriteRedoPath(file),
    Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), tail, old]),
  );
  return '{"n":1}\n{"n":2}\n{"n":3,"x":1}\n{"n":4}\n';
}

describe('finishTailRewrite (after a crash)', () => {
  it('does nothing when no rewrite was under way', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    expect(await finishTailRewrite(file, files())).toBeUndefined();
    expect(text()).toBe(LINES.join('\n') + '\n');
  });

  it('finishes a rewrite that had not touched the file yet', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    const want = redoOfLine2();
    expect(await finishTailRewrite(file, files())).toMatch(/finished a line rewrite/);
    expect(text()).toBe(want);
    expect(fs.existsSync(tailRewriteRedoPath(file))).toBe(false);
  });

  it('finishes a rewrite cut short half-way (a torn tail)', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    const want = redoOfLine2();
    // The crash came after the cut, half-way through writing the new tail.
    fs.truncateSync(file, offsetOf(2));
    fs.appendFileSync(file, '{"n":3,"x');
    expect(await finishTailRewrite(file, files())).toMatch(/finished a line rewrite/);
    expect(text()).toBe(want);
  });

  it('finishes a rewrite whose tail was written but whose redo file was still there', async () => {
    const want = redoOfLine2();
    fs.writeFileSync(file, want);
    expect(await finishTailRewrite(file, files())).toMatch(/finished a line rewrite/);
    expect(text()).toBe(want);
  });

  it('keeps what another tool appended after the crash (before the cut)', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    const want = redoOfLine2();
    fs.appendFileSync(file, '{"n":5}\n');
    expect(await finishTailRewrite(file, files())).toMatch(/finished a line rewrite/);
    expect(text()).toBe(want + '{"n":5}\n');
  });

  it('moves aside what it cannot place (a tool appended after the cut), then finishes', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    const want = redoOfLine2();
    fs.truncateSync(file, offsetOf(2));
    fs.appendFileSync(file, '{"n":3,"x');
    fs.appendFileSync(file, '{"n":5}\n');
    expect(await finishTailRewrite(file, files())).toMatch(/moved to .*history\.jsonl\.torn-/);
    expect(text()).toBe(want);
    const aside = fs.readdirSync(dir).filter((f) => f.includes('.torn-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, aside[0]!), 'utf8')).toBe('{"n":3,"x{"n":5}\n');
  });

  it('refuses a damaged redo file, naming both files, and changes nothing', async () => {
    fs.writeFileSync(file, LINES.join('\n') + '\n');
    fs.writeFileSync(tailRewriteRedoPath(file), '{"offset":8,"length":99,"old":24}\nshort');
    await expect(finishTailRewrite(file, files())).rejects.toThrow(
      new RegExp(`${tailRewriteRedoPath(file)}.*damaged.*${file}`),
    );
    expect(text()).toBe(LINES.join('\n') + '\n');
  });
});
