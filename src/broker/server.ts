import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { JobBroker } from './broker.js';
import {
  lineSplitter,
  type BrokerPush,
  type BrokerRequest,
  type BrokerResponse,
  type JobUpdate,
} from './protocol.js';

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
  // mkdtemp creates the dir with mode 0700, so other users cannot reach the socket.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitest-disagg-'));
  const socketPath = path.join(dir, 'broker.sock');
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

/**
 * The job updates of every test, kept (the latest of each kind) so that a worker asking for a job that
 * was submitted up front learns at once where it stands, then hears each new one.
 */
function followUpdates(broker: JobBroker) {
  const seen = new Map<string, Map<JobUpdate['kind'], JobUpdate>>();
  const watchers = new Map<string, Set<(u: JobUpdate) => void>>();
  const tell = (testId: string, update: JobUpdate) => {
    let kinds = seen.get(testId);
    if (!kinds || update.kind === 'submitted') seen.set(testId, (kinds = new Map()));
    kinds.set(update.kind, update);
    for (const w of watchers.get(testId) ?? []) w(update);
  };
  const offs = [
    broker.events.on('submitted', (event) => tell(event.testId, { kind: 'submitted', event })),
    broker.events.on('state', (event) => tell(event.testId, { kind: 'state', event })),
    broker.events.on('progress', (event) => tell(event.testId, { kind: 'progress', event })),
  ];
  return {
    watch(testId: string, onUpdate: (u: JobUpdate) => void): () => void {
      for (const u of seen.get(testId)?.values() ?? []) onUpdate(u);
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
