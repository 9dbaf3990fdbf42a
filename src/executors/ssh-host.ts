// Host over ONE node-ssh connection to a cluster login node.
//
// Why it looks like this (measured against OpenSSH 9.2 with MaxSessions 10, see
// the sshd that scripts/local-cluster.sh starts):
// - sshd frees a session slot slightly after the client sees the channel close, so even 8 concurrent
//   channels fail with `Channel open failure`; 4 never did. Hence an in-process limiter of 4 plus a
//   retry with backoff on that error.
// - When the connection drops, node-ssh RESOLVES the in-flight command with `code: null`; a result
//   like that must never reach the caller. We reconnect (bounded, with backoff) and run it again, so
//   every command we send is written to be safe to repeat.
// - ssh2 accepts any host key unless told otherwise: known_hosts is checked in hostVerifier.

import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import { TransportError } from '../errors.js';
import { partialUploadPath } from '../jobdir/files.js';
import {
  checkHostKey,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
  type HostKeyVerdict,
} from './known-hosts.js';
import { lineSplitter } from './line-splitter.js';
import { signalExitCode } from './local-host.js';
import { shq } from './shell-quote.js';
import { describeSsh, type SshSettings } from './ssh-settings.js';
import {
  STREAM_REFUSED,
  type CommandResult,
  type Host,
  type RetryPolicy,
  type SshHostOptions,
  type StreamingCommand,
} from './types.js';

export type { RetryPolicy, SshHostEvent, SshHostOptions } from './types.js';

/** The subset of ssh2's connect config we use (node-ssh re-exports ssh2's types, which are not installed). */
interface ConnectConfig {
  host?: string;
  port?: number;
  sock?: Duplex;
  username: string;
  privateKeyPath?: string;
  agent?: string;
  readyTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
  hostVerifier: (key: Buffer) => boolean;
  algorithms?: { serverHostKey: string[] };
}

/** ssh2 errors carry a `level` (`client-authentication`, `client-socket`, `handshake`, …). */
interface Ssh2Error extends Error {
  level?: string;
  code?: string | number;
}

/** An unknown, changed or revoked host key: never retried. */
export class HostKeyError extends TransportError {
  constructor(
    message: string,
    readonly kind: 'unknown' | 'changed' | 'revoked',
  ) {
    super(message);
  }
}

/** Connecting failed (after retries, or at once for authentication errors). */
export class SshConnectError extends TransportError {
  constructor(
    message: string,
    readonly level: string | undefined,
    readonly causeError: unknown,
  ) {
    super(message, { cause: causeError });
  }
}

/** The connection was lost more often than `maxLostRetries` while running one command. */
export class SshConnectionLostError extends TransportError {}

// ssh2's default host key algorithm order (ssh2 1.17, eddsa available on Node ≥ 12).
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function backoff(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2); // jitter: parallel retries do not re-collide
}

/** A counting semaphore: at most `n` holders at once, FIFO. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    else this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active -= 1;
    };
  }

  get inUse(): number {
    return this.active;
  }
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isChannelOpenFailure(e: unknown): boolean {
  return /Channel open failure/i.test(errMessage(e));
}

function isConnectionError(e: unknown): boolean {
  return /Not connected to server|No response from server|ECONNRESET|EPIPE|socket hang up|Connection lost|Socket is closed|write after end|has been ended|Keepalive timeout|Timed out while waiting for handshake/i.test(
    errMessage(e),
  );
}

/** Authentication and configuration errors do not get better by retrying. */
function isPermanentConnectError(e: unknown): boolean {
  if (e instanceof HostKeyError) return true;
  const level = (e as Ssh2Error).level;
  if (level === 'client-authentication') return true;
  return /ENOTFOUND|EAI_AGAIN|privateKey|Cannot parse|Unsupported key format|All configured authentication methods failed/i.test(
    errMessage(e),
  );
}

interface Opened {
  ssh: NodeSSH;
  jump?: Opened;
  generation: number;
  lost: boolean;
}

function disposeOpened(o: Opened): void {
  try {
    o.ssh.dispose();
  } catch {
    // already gone
  }
  if (o.jump) disposeOpened(o.jump);
}

function clientOf(ssh: NodeSSH): EventEmitter | null {
  // node-ssh types `connection` with ssh2's Client, whose types are not installed; we only need events.
  return ssh.connection as unknown as EventEmitter | null;
}

export class SshHost implements Host {
  readonly description: string;
  private readonly sem: Semaphore;
  private readonly opts: Required<Omit<SshHostOptions, 'onEvent'>> & Pick<SshHostOptions, 'onEvent'>;
  private current: Opened | undefined;
  private connecting: Promise<Opened> | undefined;
  private generation = 0;
  private closed = false;
  private home: string | undefined;

  constructor(
    readonly settings: SshSettings,
    options: SshHostOptions = {},
  ) {
    this.description = `ssh ${describeSsh(settings)}`;
    this.opts = {
      maxChannels: options.maxChannels ?? 4,
      channelRetry: options.channelRetry ?? { attempts: 12, baseDelayMs: 50, maxDelayMs: 2000 },
      reconnect: options.reconnect ?? { attempts: 6, baseDelayMs: 250, maxDelayMs: 5000 },
      initialConnectAttempts: options.initialConnectAttempts ?? 2,
      maxLostRetries: options.maxLostRetries ?? 3,
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 10_000,
      onEvent: options.onEvent,
    };
    this.sem = new Semaphore(this.opts.maxChannels);
  }

  /** Channels currently open through this host (for tests of the limiter). */
  get channelsInUse(): number {
    return this.sem.inUse;
  }

  /** Connect now (otherwise the first command connects). Rejects with HostKeyError / SshConnectError. */
  async connect(): Promise<void> {
    await this.getConnection();
  }

  async exec(
    command: string,
    options: { cwd?: string; stdin?: string | Buffer } = {},
  ): Promise<CommandResult> {
    const r = await this.run(command, options);
    return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
  }

  /**
   * A long-running command on one channel of the connection, held until it ends (it counts against
   * `maxChannels`). No retry here: when the connection drops, `done` says so (`code: null`) and the
   * caller decides whether to start it again.
   */
  stream(command: string, onLine: (line: string) => void): StreamingCommand {
    if (this.opts.maxChannels < 2) {
      // Holding the only channel would stall every other command.
      const stderr = `maxChannels is ${this.opts.maxChannels}: no channel to spare for a long-running command`;
      const done = Promise.resolve({ code: STREAM_REFUSED, stdout: '', stderr });
      return { write: () => undefined, end: () => undefined, done };
    }
    const stdin = new PassThrough();
    const done = (async (): Promise<CommandResult> => {
      let conn: Opened;
      try {
        conn = await this.getConnection();
      } catch (e) {
        return { code: null, stdout: '', stderr: errMessage(e) };
      }
      const release = await this.sem.acquire();
      const err: Buffer[] = [];
      try {
        const r = await conn.ssh.execCommand(command, {
          stdin,
          noTrim: true,
          onStdout: lineSplitter(onLine),
          onStderr: (b) => err.push(b),
        });
        const lost = r.code === null && r.signal === null;
        if (lost) this.markLost(conn, command);
        return {
          code: lost ? null : (r.code ?? 255),
          stdout: '',
          stderr: Buffer.concat(err).toString('utf8'),
        };
      } catch (e) {
        if (isConnectionError(e) || !conn.ssh.isConnected()) this.markLost(conn, command);
        return { code: null, stdout: '', stderr: errMessage(e) };
      } finally {
        release();
      }
    })();
    return {
      write: (line) => {
        if (!stdin.writableEnded) stdin.write(`${line}\n`);
      },
      end: () => {
        if (!stdin.writableEnded) stdin.end();
      },
      done,
    };
  }

  async mkdirp(dir: string): Promise<void> {
    const r = await this.run(`mkdir -p -- ${shq(dir)}`);
    if (r.code !== 0)
      throw new TransportError(
        `mkdir -p ${dir} failed on ${this.settings.host}: ${r.stderr.toString().trim()}`,
      );
  }

  async writeFile(file: string, content: string | Buffer, mode?: number): Promise<void> {
    // Write to a temp name and rename: a retried write after a lost connection never leaves half a file.
    const tmp = partialUploadPath(file, randomBytes(4).toString('hex'));
    const chmod = mode === undefined ? '' : ` && chmod ${(mode & 0o7777).toString(8)} ${shq(tmp)}`;
    const cmd =
      `mkdir -p -- ${shq(path.posix.dirname(file))} && cat > ${shq(tmp)}${chmod} && mv -f -- ${shq(tmp)} ${shq(file)}` +
      ` || { rm -f -- ${shq(tmp)}; exit 1; }`;
    const r = await this.run(cmd, { stdin: typeof content === 'string' ? Buffer.from(content) : content });
    if (r.code !== 0)
      throw new TransportError(
        `writing ${file} on ${this.settings.host} failed: ${r.stderr.toString().trim()}`,
      );
  }

  async getFile(remotePath: string, localPath: string, maxBytes?: number): Promise<void> {
    // `tail -c` reads only the end of a multi-GB log on the remote side; nothing else crosses the wire.
    const reader =
      maxBytes === undefined
        ? `cat -- ${shq(remotePath)}`
        : `tail -c ${Math.max(0, Math.floor(maxBytes))} -- ${shq(remotePath)}`;
    const cmd = `if [ ! -f ${shq(remotePath)} ]; then echo "No such file: ${remotePath.replace(/[^\w./-]/g, '?')}" >&2; exit 66; fi; ${reader}`;
    const r = await this.run(cmd);
    if (r.code === 66) {
      const err: NodeJS.ErrnoException = new Error(`No such file on ${this.settings.host}: ${remotePath}`);
      err.code = 'ENOENT';
      throw err;
    }
    if (r.code !== 0)
      throw new TransportError(
        `reading ${remotePath} on ${this.settings.host} failed: ${r.stderr.toString().trim()}`,
      );
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    const tmp = `${localPath}.part-${randomBytes(4).toString('hex')}`;
    await fs.writeFile(tmp, r.stdout);
    await fs.rename(tmp, localPath);
  }

  async listFiles(dir: string): Promise<Array<{ path: string; size: number }>> {
    const q = shq(dir);
    // NUL-separated so that any file name survives; a missing dir is an empty listing.
    const r = await this.run(`[ -d ${q} ] || exit 0; find ${q} -mindepth 1 -type f -printf '%s\\t%P\\0'`);
    if (r.code !== 0)
      throw new TransportError(
        `listing ${dir} on ${this.settings.host} failed: ${r.stderr.toString().trim()}`,
      );
    return parseFindOutput(r.stdout.toString('utf8'));
  }

  async homeDir(): Promise<string> {
    if (this.home === undefined) {
      const r = await this.run('printf %s "$HOME"');
      const h = r.stdout.toString('utf8').trim();
      if (r.code !== 0 || h === '')
        throw new TransportError(`cannot read $HOME on ${this.settings.host}: ${r.stderr.toString().trim()}`);
      this.home = h;
    }
    return this.home;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.current;
    this.current = undefined;
    if (c) {
      c.lost = true; // a deliberate close is not a lost connection: no event, no reconnect
      disposeOpened(c);
    }
    if (this.connecting) {
      try {
        const o = await this.connecting;
        o.lost = true;
        disposeOpened(o);
      } catch {
        // the pending connect failed: nothing to close
      }
    }
  }

  /** Run one command with the channel limiter, channel-open retries and reconnect-and-retry. */
  private async run(
    command: string,
    options: { cwd?: string; stdin?: string | Buffer } = {},
  ): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
    const full = options.cwd ? `cd -- ${shq(options.cwd)} || exit 1\n${command}` : command;
    let lostCount = 0;
    let channelFailures = 0;
    for (;;) {
      const conn = await this.getConnection();
      const release = await this.sem.acquire();
      let result: { code: number | null; signal: string | null; stdout: Buffer; stderr: Buffer };
      try {
        result = await this.execOnce(conn, full, options.stdin);
      } catch (e) {
        release();
        if (isChannelOpenFailure(e)) {
          channelFailures += 1;
          if (channelFailures > this.opts.channelRetry.attempts) throw e;
          this.opts.onEvent?.({ type: 'channel-retry', attempt: channelFailures, error: errMessage(e) });
          await sleep(backoff(this.opts.channelRetry, channelFailures - 1));
          continue;
        }
        if (isConnectionError(e) || !conn.ssh.isConnected()) {
          this.markLost(conn, command);
          lostCount += 1;
          if (lostCount > this.opts.maxLostRetries) {
            throw new SshConnectionLostError(
              `SSH connection to ${this.settings.host} lost ${lostCount} times: ${errMessage(e)}`,
            );
          }
          continue;
        }
        throw e;
      }
      release();
      if (result.code === null && result.signal === null) {
        // node-ssh's way of saying the connection went away mid-command: not a result.
        this.markLost(conn, command);
        lostCount += 1;
        if (lostCount > this.opts.maxLostRetries) {
          throw new SshConnectionLostError(
            `SSH connection to ${this.settings.host} lost ${lostCount} times while running: ${command.slice(0, 200)}`,
          );
        }
        continue;
      }
      const code =
        result.code ??
        signalExitCode(
          result.signal && !result.signal.startsWith('SIG') ? `SIG${result.signal}` : result.signal,
        );
      return { code, stdout: result.stdout, stderr: result.stderr };
    }
  }

  private async execOnce(
    conn: Opened,
    command: string,
    stdin: string | Buffer | undefined,
  ): Promise<{ code: number | null; signal: string | null; stdout: Buffer; stderr: Buffer }> {
    // Collect raw chunks ourselves: node-ssh decodes each chunk separately, which can split UTF-8.
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const r = await conn.ssh.execCommand(command, {
      stdin:
        stdin === undefined
          ? undefined
          : Readable.from([typeof stdin === 'string' ? Buffer.from(stdin) : stdin]),
      noTrim: true,
      onStdout: (b) => out.push(b),
      onStderr: (b) => err.push(b),
    });
    return { code: r.code, signal: r.signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
  }

  private markLost(conn: Opened, command?: string): void {
    if (conn.lost) return;
    conn.lost = true;
    this.opts.onEvent?.({ type: 'connection-lost', generation: conn.generation, command });
    if (this.current === conn) this.current = undefined;
    disposeOpened(conn);
  }

  private async getConnection(): Promise<Opened> {
    if (this.closed) throw new TransportError(`${this.description}: host is closed`);
    if (this.current && !this.current.lost) return this.current;
    if (!this.connecting) {
      const reconnect = this.generation > 0;
      this.connecting = this.connectWithRetry(reconnect).finally(() => {
        this.connecting = undefined;
      });
    }
    return this.connecting;
  }

  private async connectWithRetry(reconnect: boolean): Promise<Opened> {
    const attempts = reconnect ? this.opts.reconnect.attempts : this.opts.initialConnectAttempts;
    let lastError: unknown;
    for (let attempt = 0; attempt < Math.max(1, attempts); attempt += 1) {
      if (attempt > 0) await sleep(backoff(this.opts.reconnect, attempt - 1));
      if (this.closed) throw new TransportError(`${this.description}: host is closed`);
      try {
        const generation = ++this.generation;
        const opened = await openConnection(this.settings, this.opts, generation);
        opened.generation = generation;
        this.watch(opened);
        this.current = opened;
        this.opts.onEvent?.({ type: 'connected', generation, reconnect });
        return opened;
      } catch (e) {
        lastError = e;
        if (isPermanentConnectError(e)) break;
      }
    }
    if (lastError instanceof HostKeyError || lastError instanceof SshConnectError) throw lastError;
    throw new SshConnectError(
      `SSH connection to ${describeSsh(this.settings)} failed: ${errMessage(lastError)}`,
      (lastError as Ssh2Error | undefined)?.level,
      lastError,
    );
  }

  /** Keep an 'error' listener on the client for its whole life: an unhandled 'error' event kills the process. */
  private watch(opened: Opened): void {
    const onDown = (): void => this.markLost(opened);
    for (let o: Opened | undefined = opened; o; o = o.jump) {
      const client = clientOf(o.ssh);
      client?.on('error', onDown);
      client?.on('close', onDown);
      client?.on('end', onDown);
    }
  }
}

/** Parse `find -printf '%s\t%P\0'` output. */
export function parseFindOutput(text: string): Array<{ path: string; size: number }> {
  const files: Array<{ path: string; size: number }> = [];
  for (const rec of text.split('\0')) {
    if (rec === '') continue;
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const size = Number(rec.slice(0, tab));
    const p = rec.slice(tab + 1);
    if (p !== '' && Number.isFinite(size)) files.push({ path: p, size });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** Open one connection (through its ProxyJump chain), verifying the host key against known_hosts. */
async function openConnection(
  settings: SshSettings,
  opts: { readyTimeoutMs: number; keepaliveIntervalMs: number },
  generation: number,
): Promise<Opened> {
  let jump: Opened | undefined;
  let sock: Duplex | undefined;
  if (settings.proxyJump) {
    jump = await openConnection(settings.proxyJump, opts, generation);
    try {
      // The bastion opens a TCP stream to the target; ssh2 speaks SSH over it (`sock`).
      sock = (await jump.ssh.forwardOut('127.0.0.1', 0, settings.host, settings.port)) as Duplex;
    } catch (e) {
      disposeOpened(jump);
      throw new SshConnectError(
        `ProxyJump ${describeSsh(settings.proxyJump)} could not reach ${settings.host}:${settings.port}: ${errMessage(e)}`,
        'proxy',
        e,
      );
    }
  }

  const entries = loadKnownHosts(settings.knownHostsPaths);
  let verdict: HostKeyVerdict | undefined;
  const preferred = preferredHostKeyAlgorithms(entries, settings.host, settings.port).filter((a) =>
    DEFAULT_HOST_KEY_ALGOS.includes(a),
  );
  const config: ConnectConfig = {
    ...(sock ? { sock } : { host: settings.host }),
    port: settings.port,
    username: settings.username,
    privateKeyPath: settings.privateKeyPath,
    agent: settings.agent && existsSync(settings.agent) ? settings.agent : undefined,
    readyTimeout: opts.readyTimeoutMs,
    keepaliveInterval: opts.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    // Without hostHash, ssh2 hands us the raw key blob (the base64 part of a known_hosts line, decoded).
    hostVerifier: (key: Buffer) => {
      verdict = checkHostKey(entries, settings.host, settings.port, key, settings.knownHostsPaths);
      return verdict.ok;
    },
    ...(preferred.length > 0
      ? {
          algorithms: {
            serverHostKey: [...preferred, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))],
          },
        }
      : {}),
  };
  const ssh = new NodeSSH();
  try {
    await ssh.connect(config);
  } catch (e) {
    try {
      ssh.dispose();
    } catch {
      // nothing to dispose
    }
    if (jump) disposeOpened(jump);
    if (verdict && !verdict.ok) throw new HostKeyError(verdict.message, verdict.kind);
    const level = (e as Ssh2Error).level;
    const hint =
      level === 'client-authentication'
        ? ` (user ${settings.username}, key ${settings.privateKeyPath ?? 'none'}${settings.agent ? ', agent' : ''})`
        : '';
    throw new SshConnectError(
      `SSH connection to ${describeSsh(settings)} failed: ${errMessage(e)}${hint}`,
      level,
      e,
    );
  }
  return { ssh, jump, generation, lost: false };
}
