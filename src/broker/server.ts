import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { JobBroker } from './broker.js';
import { lineSplitter, type BrokerRequest, type BrokerResponse } from './protocol.js';

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
            case 'run':
              opts.onRun?.(req.testId, req.configFile);
              return { id: req.id, ok: true, outcome: await broker.run(req.testId) };
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
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
