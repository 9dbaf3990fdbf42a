import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { JobBroker } from './broker.js';
import {
  lineSplitter,
  type BrokerPush,
  type BrokerRequest,
  type BrokerResponse,
  type JobUpdate,
} from './protocol.js';
import { makeSocketDir, removeDeadSocketDirs, SOCKET_NAME } from './socket-dirs.js';

export interface ServeOptions {
  /** Called before a `run` request reaches the broker: may register the test's config file, or throw. */
  onRun?: (testId: string, configFile: string | undefined) => void;
}

export interface BrokerServer {
  socketPath: string;
  close(): Promise<void>;
}

/** Serve the broker to the Vitest workers on a unix socket only this user can open. */
export async function serveBroker(broker: JobBroker, opts: ServeOptions = {}): Promise<BrokerServer> {
  // Runs killed with kill -9 left their dirs behind: remove those of dead runs first.
  await removeDeadSocketDirs();
  // mkdtemp creates the dir with mode 0700, so other users cannot reach the socket.
  const dir = makeSocketDir();
  const socketPath = path.join(dir, SOCKET_NAME);
  const sockets = new Set<net.Socket>();
  const updates = followUpdates(broker);
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    const reply = (res: BrokerResponse) => {
      if (!socket.destroyed) socket.write(JSON.stringify(res) + '\n');
    };
    socket.on(
      'data',
      lineSplitter((line) => {
        let req: BrokerRequest;
        try {
          req = JSON.parse(line) as BrokerRequest;
        } catch {
          return;
        }
        const answer = async (): Promise<BrokerResponse> => {
          switch (req.op) {
            case 'run': {
              const testId = req.testId;
              opts.onRun?.(testId, req.configFile);
              const stop = updates.watch(testId, (update) => {
                const push: BrokerPush = { push: 'job', testId, update };
                if (!socket.destroyed) socket.write(JSON.stringify(push) + '\n');
              });
              try {
                return { id: req.id, ok: true, outcome: await broker.run(testId) };
              } finally {
                stop();
              }
            }
            case 'cancel':
              await broker.cancel(req.testId);
              return { id: req.id, ok: true };
            case 'consumed':
              await broker.consumed(req.testId, req.jobId);
              return { id: req.id, ok: true };
            case 'ping':
              return { id: req.id, ok: true };
          }
        };
        answer().then(reply, (err: Error) => reply({ id: req.id, ok: false, error: err.message }));
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    socketPath,
    close: async () => {
      updates.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Updates kept per test for a worker that asks late (a job has a handful of state changes). */
const MAX_REPLAY = 32;

/**
 * The job updates of every test, kept so that a worker asking for a job that was submitted up front
 * (before the workers started) learns at once its story so far, then hears each new one: the submission,
 * every state change (a job that ran before its test asked still shows RUNNING), the latest progress.
 */
function followUpdates(broker: JobBroker) {
  const seen = new Map<string, JobUpdate[]>();
  const watchers = new Map<string, Set<(u: JobUpdate) => void>>();
  const tell = (testId: string, update: JobUpdate) => {
    let kept = seen.get(testId);
    if (!kept || update.kind === 'submitted') seen.set(testId, (kept = []));
    if (update.kind === 'progress') {
      const previous = kept.findIndex((u) => u.kind === 'progress');
      if (previous >= 0) kept.splice(previous, 1);
    }
    kept.push(update);
    // Bounded; the submission (first) stays.
    if (kept.length > MAX_REPLAY) kept.splice(1, 1);
    for (const w of watchers.get(testId) ?? []) w(update);
  };
  const offs = [
    broker.events.on('submitted', (event) => tell(event.testId, { kind: 'submitted', event })),
    broker.events.on('states', (changes) => {
      for (const event of changes) tell(event.testId, { kind: 'state', event });
    }),
    broker.events.on('progress', (event) => tell(event.testId, { kind: 'progress', event })),
  ];
  return {
    watch(testId: string, onUpdate: (u: JobUpdate) => void): () => void {
      for (const u of seen.get(testId) ?? []) onUpdate(u);
      let set = watchers.get(testId);
      if (!set) watchers.set(testId, (set = new Set()));
      set.add(onUpdate);
      return () => set.delete(onUpdate);
    },
    stop(): void {
      offs.forEach((off) => off());
      watchers.clear();
    },
  };
}
