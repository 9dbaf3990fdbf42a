// Only regular files are read, within a bound applied to the open descriptor: a FIFO, a device (a
// symlink to /dev/zero) or a directory is refused at once with its name, never read or waited on.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateFiles } from '../../../src/config/loader.js';
import { testsFromCsv } from '../../../src/report/from-csv.js';
import {
  FileReadError,
  readRegularFile,
  readRegularFileSync,
  readRegularTextIfExists,
} from '../../../src/util/read-regular-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regular-file-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const bound = { maxBytes: 1024 };
const fifo = (name: string): string => {
  const f = path.join(dir, name);
  execFileSync('mkfifo', [f]);
  return f;
};

describe('readRegularFile', () => {
  it('reads a regular file whole, and through a symlink to one', async () => {
    const f = path.join(dir, 'a.yaml');
    fs.writeFileSync(f, 'a: 1\n');
    fs.symlinkSync(f, path.join(dir, 'link.yaml'));
    expect((await readRegularFile(f, bound)).toString()).toBe('a: 1\n');
    expect(readRegularFileSync(path.join(dir, 'link.yaml'), bound).toString()).toBe('a: 1\n');
  });

  it('refuses a FIFO at once (no writer needed, nothing waits), sync and async', async () => {
    const f = fifo('f.yaml');
    expect(() => readRegularFileSync(f, bound)).toThrow(
      /f\.yaml is a FIFO \(named pipe\), not a regular file/,
    );
    await expect(readRegularFile(f, bound)).rejects.toMatchObject({ code: 'ENOTREG', file: f });
  });

  it('refuses a symlink to /dev/zero and a directory, naming the file', async () => {
    const zero = path.join(dir, 'zero.csv');
    fs.symlinkSync('/dev/zero', zero);
    await expect(readRegularFile(zero, bound)).rejects.toThrow(/zero\.csv is a character device/);
    expect(() => readRegularFileSync(dir, bound)).toThrow(/is a directory, not a regular file/);
  });

  it('refuses a file over the bound by its size, naming file, size and limit', async () => {
    const f = path.join(dir, 'big.csv');
    fs.writeFileSync(f, 'x'.repeat(1025));
    const err = await readRegularFile(f, bound).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileReadError);
    expect((err as FileReadError).message).toMatch(
      /big\.csv is 1025 bytes, more than the limit of 1024 bytes/,
    );
    expect((err as FileReadError).code).toBe('EFBIG');
  });

  it('a missing file: undefined from readRegularTextIfExists, ENOENT naming it otherwise', async () => {
    expect(await readRegularTextIfExists(path.join(dir, 'none'), bound)).toBeUndefined();
    expect(() => readRegularFileSync(path.join(dir, 'none'), bound)).toThrow(/none: no such file/);
  });
});

describe('the readers that use it', () => {
  it('disagg validate on a FIFO returns at once with an error naming it', () => {
    const f = fifo('fifo.yaml');
    const r = validateFiles([f]);
    expect(r.configs).toHaveLength(1);
    expect(r.configs[0].problems.map((p) => p.message).join('\n')).toMatch(
      /fifo\.yaml is a FIFO \(named pipe\), not a regular file/,
    );
  });

  it('a config that is a symlink to /dev/zero is refused, not read', () => {
    const f = path.join(dir, 'zero.yaml');
    fs.symlinkSync('/dev/zero', f);
    const r = validateFiles([f]);
    expect(r.configs[0].problems[0].message).toMatch(/zero\.yaml is a character device/);
  });

  it('a 1 GB sparse CSV is refused by its size, naming the file (not "Invalid string length")', async () => {
    const f = path.join(dir, 'perf_script_test_results.csv');
    fs.writeFileSync(f, 'test_name,perf_metric,metric_type\n');
    fs.truncateSync(f, 1024 ** 3);
    await expect(testsFromCsv(f)).rejects.toThrow(
      /perf_script_test_results\.csv is 1073741824 bytes, more than the limit of \d+ bytes/,
    );
  });
});
