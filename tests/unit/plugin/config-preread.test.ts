// The pre-read guard: while it is in place, `readFile` (called as Vitest's chunk does, through the
// `promises` it imports from 'node:fs') reads our selected configs as bounded regular files and refuses a
// FIFO (even one a silent writer holds open) or a device at once; every other path reaches the original.
// Each window ends with the original back. A read that blocked would end this file by its test timeout.
import { execFileSync } from 'node:child_process';
import fs, { promises } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestModule } from 'vitest/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPreread, guardPreread, type PrereadGuard } from '../../../src/plugin/config-preread.js';
import { repoRoot } from '../../fixtures/paths.js';

const original = fs.promises.readFile;
let tmp: string;
const guards: PrereadGuard[] = [];
const held: number[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'disagg-preread-'));
});
afterEach(() => {
  for (const g of guards.splice(0)) g.restore();
  for (const fd of held.splice(0)) fs.closeSync(fd);
  fs.promises.readFile = original;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

/** A FIFO with a writer that never writes (`sleep 1000 > f`): a plain read of it blocks for good. */
function silentFifo(name: string): string {
  const f = path.join(tmp, name);
  execFileSync('mkfifo', [f]);
  // O_RDWR opens a FIFO without waiting for a reader (Linux), and holds its write end.
  held.push(fs.openSync(f, 'r+'));
  return f;
}

function guard(files: string[], maxBytes = 1024): PrereadGuard {
  const g = guardPreread(files, maxBytes);
  guards.push(g);
  return g;
}

describe('guardPreread', () => {
  it('reads a selected regular config as before (text with an encoding, bytes without)', async () => {
    const f = file('good.yaml', 'metadata: {}\n');
    guard([f]);
    await expect(promises.readFile(f, 'utf-8')).resolves.toBe('metadata: {}\n');
    await expect(promises.readFile(f, { encoding: 'utf8' })).resolves.toBe('metadata: {}\n');
    const bytes = await promises.readFile(f);
    expect(Buffer.isBuffer(bytes) && bytes.toString('utf8')).toBe('metadata: {}\n');
  });

  it('refuses a selected FIFO held open by a silent writer, at once, naming the file', async () => {
    const f = silentFifo('held.yaml');
    guard([f]);
    await expect(promises.readFile(f, 'utf-8')).rejects.toThrow(/held\.yaml is a FIFO \(named pipe\)/);
  });

  it('refuses a selected FIFO nobody writes', async () => {
    const f = path.join(tmp, 'empty-pipe.yaml');
    execFileSync('mkfifo', [f]);
    guard([f]);
    await expect(promises.readFile(f, 'utf-8')).rejects.toThrow(/empty-pipe\.yaml is a FIFO/);
  });

  it.each(['/dev/zero', '/dev/urandom'])(
    'refuses a selected symlink to %s without reading it',
    async (device) => {
      const f = path.join(tmp, 'device.yaml');
      fs.symlinkSync(device, f);
      guard([f]);
      await expect(promises.readFile(f, 'utf-8')).rejects.toThrow(/device\.yaml is a character device/);
    },
  );

  it('refuses a selected config over the bound', async () => {
    const f = file('big.yaml', 'x'.repeat(2000));
    guard([f], 1000);
    await expect(promises.readFile(f, 'utf-8')).rejects.toMatchObject({ code: 'EFBIG' });
  });

  it('hands every other path to the original untouched', async () => {
    const ours = file('ours.yaml', 'a: 1\n');
    const plain = file('plain.txt', 'hello');
    guard([ours]);
    await expect(promises.readFile(plain, 'utf-8')).resolves.toBe('hello');
    await expect(promises.readFile(new URL(`file://${plain}`), 'utf-8')).resolves.toBe('hello');
    // Not ours: the original's own error for a missing file.
    await expect(promises.readFile(path.join(tmp, 'missing.yaml'))).rejects.toMatchObject({
      code: 'ENOENT',
      syscall: 'open',
    });
  });

  it('passes the very arguments of any other call to the readFile it replaced', async () => {
    const calls: unknown[][] = [];
    const recorder = ((...args: unknown[]) => {
      calls.push(args);
      return Promise.resolve('recorded');
    }) as unknown as typeof original;
    fs.promises.readFile = recorder;
    const ours = file('ours.yaml', 'a: 1\n');
    const g = guard([ours]);
    const other = path.join(tmp, 'other.yaml');
    const signal = new AbortController().signal;
    await expect(promises.readFile(other, { encoding: 'utf8', signal })).resolves.toBe('recorded');
    await expect(promises.readFile(Buffer.from(ours))).resolves.toBe('recorded');
    // The same config by another spelling is not Vitest's module id: not ours either.
    await expect(promises.readFile(`${tmp}/./ours.yaml`)).resolves.toBe('recorded');
    await expect(promises.readFile(ours, 'utf-8')).resolves.toBe('a: 1\n');
    expect(calls).toEqual([
      [other, { encoding: 'utf8', signal }],
      [Buffer.from(ours)],
      [`${tmp}/./ours.yaml`],
    ]);
    g.restore();
    expect(fs.promises.readFile).toBe(recorder);
  });

  it('restore puts the original back, once, and leaves a later patch alone', () => {
    const g = guard([file('a.yaml', '')]);
    expect(fs.promises.readFile).not.toBe(original);
    g.restore();
    expect(fs.promises.readFile).toBe(original);
    g.restore();
    expect(fs.promises.readFile).toBe(original);

    const g2 = guard([file('b.yaml', '')]);
    const later = (() => Promise.resolve('later')) as unknown as typeof original;
    fs.promises.readFile = later;
    g2.restore();
    expect(fs.promises.readFile).toBe(later);
  });
});

describe('configPreread', () => {
  const module = (moduleId: string): TestModule => ({ moduleId }) as TestModule;

  it('guards from its creation until one of its configs is queued', async () => {
    const f = silentFifo('gone.yaml');
    const reporter = configPreread([f], 1024);
    await expect(promises.readFile(f, 'utf-8')).rejects.toThrow(/gone\.yaml is a FIFO/);
    // Another project's module: Vitest may still be reading ours.
    await reporter.onTestModuleQueued?.(module(path.join(tmp, 'other.test.ts')));
    expect(fs.promises.readFile).not.toBe(original);
    await reporter.onTestModuleQueued?.(module(f));
    expect(fs.promises.readFile).toBe(original);
  });

  it('guards again at each watch-mode rerun, until the run ends, is collected or times out', async () => {
    const f = file('good.yaml', 'x: 1\n');
    const reporter = configPreread([f], 1024);
    await reporter.onTestRunEnd?.([], [], 'passed');
    expect(fs.promises.readFile).toBe(original);
    await reporter.onTestRunStart?.([]);
    expect(fs.promises.readFile).not.toBe(original);
    await reporter.onTestModuleCollected?.(module(f));
    expect(fs.promises.readFile).toBe(original);
    await reporter.onTestRunStart?.([]);
    await reporter.onTestRunStart?.([]);
    await reporter.onProcessTimeout?.();
    expect(fs.promises.readFile).toBe(original);
  });

  it('patches nothing without configs (a folder-module run)', () => {
    configPreread([], 1024);
    expect(fs.promises.readFile).toBe(original);
  });
});

// The guard rests on how Vitest pre-reads test files: this fails when an upgrade changes it (re-check then).
describe("Vitest's pre-read, as the guard expects it", () => {
  it("reads each test file with readFile of the `promises` it imports from 'node:fs'", () => {
    const chunks = path.join(repoRoot, 'node_modules/vitest/dist/chunks');
    const cliApi = fs.readdirSync(chunks).filter((f) => /^cli-api\..*\.js$/.test(f));
    expect(cliApi).toHaveLength(1);
    const code = fs.readFileSync(path.join(chunks, cliApi[0]), 'utf8');
    expect(code).toMatch(/^import fs, \{ promises\b[^}]*\} from 'node:fs';$/m);
    const start = code.indexOf('async function getSpecificationsOptions(');
    expect(start).toBeGreaterThan(-1);
    const body = code.slice(start, code.indexOf('\n}\n', start));
    expect(body).toContain('await promises.readFile(filepath, "utf-8").catch(() => "")');
  });
});
