// `disagg … | head`: output to a pipe whose reader went away ends the command quietly (no EPIPE crash).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processIO } from '../../../src/cli/io.js';

class FakeStream extends EventEmitter {
  written: string[] = [];
  write(t: string): boolean {
    this.written.push(t);
    return true;
  }
}

function fakeProcess() {
  const exits: number[] = [];
  const proc = {
    stdout: new FakeStream(),
    stderr: new FakeStream(),
    env: {},
    cwd: () => '/x',
    exitCode: undefined as number | undefined,
    exit: (code: number) => void exits.push(code),
  };
  return { proc, exits, io: processIO(proc as unknown as NodeJS.Process) };
}

const epipe = (): NodeJS.ErrnoException => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

describe('processIO', () => {
  it('ends quietly with the exit code so far when stdout is a closed pipe; later output is dropped', () => {
    const { proc, exits, io } = fakeProcess();
    io.stdout('first\n');
    proc.exitCode = 1;
    // Without a listener this emit would throw (Node's unhandled 'error' event): the crash users saw.
    proc.stdout.emit('error', epipe());
    io.stdout('second\n');
    io.stderr('never\n');
    expect(exits).toEqual([1]);
    expect(proc.stdout.written).toEqual(['first\n']);
    expect(proc.stderr.written).toEqual([]);
  });

  it('exits 0 when nothing failed, also for stderr', () => {
    const { proc, exits } = fakeProcess();
    proc.stderr.emit('error', epipe());
    proc.stderr.emit('error', epipe());
    expect(exits).toEqual([0]);
  });

  it('other stream errors still surface', () => {
    const { proc } = fakeProcess();
    expect(() => proc.stdout.emit('error', Object.assign(new Error('disk'), { code: 'EIO' }))).toThrow(
      'disk',
    );
  });
});
