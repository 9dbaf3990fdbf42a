// Host for this machine: SLURM commands run through `bash -c`, files are plain fs operations.

import { spawn } from 'node:child_process';
import { constants as osConstants, homedir } from 'node:os';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lineSplitter } from './line-splitter.js';
import type { CommandResult, Host, StreamingCommand } from './types.js';

export interface LocalHostOptions {
  /** The whole environment of every command (the settings' childEnv, e.g. with `SLURM_CONF`). */
  env?: Record<string, string | undefined>;
}

/** 128 + signal number, as bash reports a signalled child: a killed command is a result, not a lost link. */
export function signalExitCode(signal: string | null): number {
  if (!signal) return 255;
  const n = (osConstants.signals as Record<string, number | undefined>)[signal];
  return n === undefined ? 255 : 128 + n;
}

export class LocalHost implements Host {
  readonly description = 'local shell';
  private readonly env: Record<string, string | undefined>;

  constructor(options: LocalHostOptions = {}) {
    this.env = { ...options.env };
  }

  exec(command: string, options: { cwd?: string; stdin?: string | Buffer } = {}): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', command], {
        cwd: options.cwd,
        env: this.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      // A command that does not read its stdin closes the pipe early: that is not an error here.
      child.stdin.on('error', () => undefined);
      child.on('close', (code, signal) => {
        resolve({
          code: code ?? signalExitCode(signal),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
    });
  }

  stream(command: string, onLine: (line: string) => void): StreamingCommand {
    const child = spawn('bash', ['-c', command], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    child.stdout.on('data', lineSplitter(onLine));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => undefined);
    const done = new Promise<CommandResult>((resolve) => {
      child.on('error', (e) => resolve({ code: null, stdout: '', stderr: e.message }));
      child.on('close', (code, signal) =>
        resolve({
          code: code ?? signalExitCode(signal),
          stdout: '',
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
    });
    return {
      write: (line) => {
        if (child.stdin.writable) child.stdin.write(`${line}\n`);
      },
      end: () => child.stdin.end(),
      done,
    };
  }

  async mkdirp(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
  }

  async writeFile(file: string, content: string | Buffer, mode?: number): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content, mode === undefined ? undefined : { mode });
    if (mode !== undefined) await fs.chmod(file, mode);
  }

  async getFile(remotePath: string, localPath: string, maxBytes?: number): Promise<void> {
    if (path.resolve(remotePath) === path.resolve(localPath)) return;
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    const st = await fs.stat(remotePath);
    if (maxBytes === undefined || st.size <= maxBytes) {
      await fs.copyFile(remotePath, localPath);
      return;
    }
    // Read only the tail: worker logs can be gigabytes.
    const fh = await fs.open(remotePath, 'r');
    try {
      const buf = Buffer.alloc(maxBytes);
      const { bytesRead } = await fh.read(buf, 0, maxBytes, st.size - maxBytes);
      await fs.writeFile(localPath, buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }

  async listFiles(dir: string): Promise<Array<{ path: string; size: number }>> {
    const out: Array<{ path: string; size: number }> = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const e of entries) {
        const r = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(r);
        else if (e.isFile()) out.push({ path: r, size: (await fs.stat(path.join(dir, r))).size });
      }
    };
    await walk('');
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async homeDir(): Promise<string> {
    return homedir();
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
