// Starts and stops the simulated deployment: num_ctx_servers ctx workers, num_gen_servers gen workers and
// the router, each on a free 127.0.0.1 port. Process mode (the real job) runs each as a child process of
// the bundle writing its own log file; in-process mode (unit tests) runs the same servers in this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createClock } from './engine.js';
import { createLogger } from './logger.js';
import { startRouter } from './router.js';
import type { SimSettings } from './settings.js';
import { startWorker, type Role, type RunningServer } from './worker.js';
import { SERVER_LOG, workerLogFile } from '../jobdir/files.js';

export type MemberKind = Role | 'router';

export interface StackMember {
  name: string;
  kind: MemberKind;
  index: number;
  port: number;
  pid: number;
  logFile: string;
}

export interface Stack {
  routerUrl: string;
  members: StackMember[];
  /** Stops every member (idempotent). */
  stop(): Promise<void>;
  /** Registers a callback for a member that dies while the stack is supposed to run. */
  onUnexpectedExit(cb: (m: StackMember, code: number | null, signal: string | null) => void): void;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;

export function logFileName(kind: MemberKind, index: number): string {
  return kind === 'router' ? SERVER_LOG : workerLogFile(kind === 'ctx' ? 'CTX' : 'GEN', index);
}

export interface ReadyMessage {
  type: 'ready';
  port: number;
}

function isReady(m: unknown): m is ReadyMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ready';
}

interface Child {
  member: StackMember;
  proc: ChildProcess;
  exited: Promise<void>;
  done: boolean;
}

export interface ProcessStackOptions {
  jobDir: string;
  configPath: string;
  /** Path of the simulator bundle (the children run `node <bundle> worker|router …`). */
  selfScript: string;
  settings: SimSettings;
  nodeBin?: string;
  /** The router's port (0 or absent: a free port). */
  routerPort?: number;
}

export async function startProcessStack(opts: ProcessStackOptions): Promise<Stack> {
  const children: Child[] = [];
  const exitCbs: Array<(m: StackMember, code: number | null, signal: string | null) => void> = [];
  let stopping = false;
  const early: Array<{ member: StackMember; code: number | null; signal: string | null }> = [];

  const launch = (kind: MemberKind, index: number, extra: string[]): Promise<Child> => {
    const logFile = join(opts.jobDir, logFileName(kind, index));
    const fd = openSync(logFile, 'a');
    // execArgv carries loaders (tsx) when not running from the bundle.
    const args = [...process.execArgv, opts.selfScript, kind === 'router' ? 'router' : 'worker'];
    if (kind !== 'router') args.push('--role', kind, '--index', String(index));
    args.push('--config', opts.configPath, '--job-dir', opts.jobDir, ...extra);
    const proc = spawn(opts.nodeBin ?? process.execPath, args, {
      stdio: ['ignore', fd, fd, 'ipc'],
      cwd: opts.jobDir,
    });
    closeSync(fd);
    const member: StackMember = {
      name: kind === 'router' ? 'SERVER' : `${kind.toUpperCase()}_${index}`,
      kind,
      index,
      port: 0,
      pid: proc.pid ?? -1,
      logFile,
    };
    const child: Child = { member, proc, done: false, exited: Promise.resolve() };
    child.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        child.done = true;
        if (!stopping) {
          // A member may die before anyone registered (e.g. crash during startup): replay it on registration.
          early.push({ member, code, signal });
          for (const cb of exitCbs) cb(member, code, signal);
        }
        resolve();
      });
    });
    children.push(child);
    return new Promise<Child>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${member.name} not ready after ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      proc.on('message', (m: unknown) => {
        if (!isReady(m)) return;
        clearTimeout(timer);
        member.port = m.port;
        resolve(child);
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${member.name} exited during startup (code ${code ?? 'null'}, signal ${signal ?? 'none'}); see ${logFile}`,
          ),
        );
      });
      proc.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  };

  const stop = async (): Promise<void> => {
    stopping = true;
    for (const c of children) if (!c.done) c.proc.kill('SIGTERM');
    await Promise.race([Promise.all(children.map((c) => c.exited)), delay(STOP_GRACE_MS)]);
    for (const c of children) if (!c.done) c.proc.kill('SIGKILL');
    await Promise.race([Promise.all(children.map((c) => c.exited)), delay(STOP_GRACE_MS)]);
  };

  try {
    const s = opts.settings;
    const workers = await Promise.all([
      ...Array.from({ length: s.numCtx }, (_, i) => launch('ctx', i, [])),
      ...Array.from({ length: s.numGen }, (_, i) => launch('gen', i, [])),
    ]);
    const url = (c: Child): string => `http://127.0.0.1:${c.member.port}`;
    const ctxUrls = workers.filter((c) => c.member.kind === 'ctx').map(url);
    const genUrls = workers.filter((c) => c.member.kind === 'gen').map(url);
    const router = await launch('router', 0, [
      '--ctx-urls',
      ctxUrls.join(','),
      '--gen-urls',
      genUrls.join(','),
      ...(opts.routerPort ? ['--port', String(opts.routerPort)] : []),
    ]);
    return {
      routerUrl: url(router),
      members: children.map((c) => c.member),
      stop,
      onUnexpectedExit: (cb) => {
        exitCbs.push(cb);
        for (const e of early) cb(e.member, e.code, e.signal);
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Same stack inside this process (unit tests, `serve --in-process`): no crash-by-exit, same servers. */
export async function startInProcessStack(settings: SimSettings, jobDir: string): Promise<Stack> {
  const servers: RunningServer[] = [];
  const members: StackMember[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    const add = async (kind: Role, index: number): Promise<RunningServer> => {
      const logFile = join(jobDir, logFileName(kind, index));
      const s = await startWorker({
        role: kind,
        index,
        settings,
        clock: createClock(settings.timeScale),
        logger: createLogger(logFile),
      });
      servers.push(s);
      members.push({
        name: `${kind.toUpperCase()}_${index}`,
        kind,
        index,
        port: s.port,
        pid: process.pid,
        logFile,
      });
      return s;
    };
    const ctx = await Promise.all(Array.from({ length: settings.numCtx }, (_, i) => add('ctx', i)));
    const gen = await Promise.all(Array.from({ length: settings.numGen }, (_, i) => add('gen', i)));
    const logFile = join(jobDir, logFileName('router', 0));
    const router = await startRouter({
      settings,
      clock: createClock(settings.timeScale),
      logger: createLogger(logFile),
      ctxUrls: ctx.map((s) => s.url),
      genUrls: gen.map((s) => s.url),
    });
    servers.push(router);
    members.push({ name: 'SERVER', kind: 'router', index: 0, port: router.port, pid: process.pid, logFile });
    return { routerUrl: router.url, members, stop, onUnexpectedExit: () => undefined };
  } catch (e) {
    await stop();
    throw e;
  }
}
