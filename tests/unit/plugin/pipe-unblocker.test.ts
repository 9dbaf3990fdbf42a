// The FIFO unblocker: a reader stuck opening a FIFO (as Vitest's own read of a test file would be) gets
// end-of-file; a regular file is left alone. The reads wait on their own promises, never on a clock.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestModule } from 'vitest/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipeUnblocker, unblockFifo } from '../../../src/plugin/pipe-unblocker.js';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-unblock-'));
});
const fifos: string[] = [];
afterEach(() => {
  // Should a test fail, a read left blocked would hold a thread of this worker: end it here.
  for (const file of fifos.splice(0)) {
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // No reader left: nothing to end.
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

function fifo(name: string): string {
  const file = path.join(tmp, name);
  execFileSync('mkfifo', [file]);
  fifos.push(file);
  return file;
}

/** A plain blocking read (what Vitest does), and whether it has ended. */
function blockedRead(file: string): { read: Promise<string>; ended: () => boolean } {
  let done = false;
  const read = fs.promises.readFile(file, 'utf8').finally(() => (done = true));
  return { read, ended: () => done };
}

describe('unblockFifo', () => {
  it('ends a read blocked opening a FIFO with end-of-file', async () => {
    const file = fifo('a.yaml');
    const { read, ended } = blockedRead(file);
    // Until the reader is inside open() there is no one to unblock (ENXIO): try again until it ends.
    let unblocked = false;
    while (!ended()) {
      unblocked = (await unblockFifo(file)) || unblocked;
      await new Promise((r) => setImmediate(r));
    }
    await expect(read).resolves.toBe('');
    expect(unblocked).toBe(true);
  });

  it('leaves a regular file (and a missing one) alone', async () => {
    const file = path.join(tmp, 'b.yaml');
    fs.writeFileSync(file, 'metadata: {}\n');
    await expect(unblockFifo(file)).resolves.toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe('metadata: {}\n');
    await expect(unblockFifo(path.join(tmp, 'missing.yaml'))).resolves.toBe(false);
  });

  it('does nothing to a FIFO nobody reads', async () => {
    await expect(unblockFifo(fifo('c.yaml'))).resolves.toBe(false);
  });
});

describe('pipeUnblocker', () => {
  it('unblocks a selected config that is a FIFO until one of them is queued', async () => {
    const regular = path.join(tmp, 'good.yaml');
    fs.writeFileSync(regular, 'x: 1\n');
    const file = fifo('gone.yaml');
    const reporter = pipeUnblocker([regular, file]);
    try {
      await expect(blockedRead(file).read).resolves.toBe('');
    } finally {
      reporter.onTestModuleQueued?.({ moduleId: file } as TestModule);
    }
  });

  it("keeps watching when another project's module is queued", async () => {
    const file = fifo('late.yaml');
    const reporter = pipeUnblocker([file]);
    try {
      await reporter.onTestModuleQueued?.({ moduleId: path.join(tmp, 'other.test.ts') } as TestModule);
      await expect(blockedRead(file).read).resolves.toBe('');
    } finally {
      await reporter.onTestRunEnd?.([], [], 'passed');
    }
  });

  it('watches again when a watch-mode rerun starts', async () => {
    const file = fifo('rerun.yaml');
    const reporter = pipeUnblocker([file]);
    try {
      await reporter.onTestRunEnd?.([], [], 'passed');
      await reporter.onTestRunStart?.([]);
      await expect(blockedRead(file).read).resolves.toBe('');
    } finally {
      await reporter.onTestRunEnd?.([], [], 'passed');
    }
  });
});
