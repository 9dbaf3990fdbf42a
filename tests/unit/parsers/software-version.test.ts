// The served software's version comes from the first worker log that prints it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workerLogFile } from '../../../src/jobdir/files.js';
import { softwareVersion } from '../../../src/parsers/software-version.js';

describe('softwareVersion', () => {
  it('reads the TensorRT-LLM version line of a worker log; undefined without one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'version-'));
    expect(await softwareVersion(dir)).toBeUndefined();
    fs.writeFileSync(path.join(dir, workerLogFile('CTX', 0)), 'starting\n');
    expect(await softwareVersion(dir)).toBeUndefined();
    fs.writeFileSync(
      path.join(dir, workerLogFile('GEN', 0)),
      '[11/29/2026-05:00:00] [TRT-LLM] [I] [TensorRT-LLM] TensorRT-LLM version: 1.1.0rc2\n',
    );
    expect(await softwareVersion(dir)).toBe('1.1.0rc2');
    expect(await softwareVersion(path.join(dir, 'missing'))).toBeUndefined();
  });
});
