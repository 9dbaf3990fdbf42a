import net from 'node:net';
import type { JobOutcome } from '../types.js';
import { lineSplitter, type BrokerRequest, type BrokerResponse } from './protocol.js';

type Pending = { resolve: (res: BrokerResponse) => void; reject: (err: Error) => void };
type RequestBody = BrokerRequest extends infer R ? (R extends BrokerRequest ? Omit<R, 'id'> : never) : never;

/** A worker's connection to the main-process broker. */
export class BrokerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly socket: net.Socket) {
    socket.on(
      'data',
      lineSplitter((line) => {
        const res = JSON.parse(line) as BrokerResponse;
        const p = this.pending.get(res.id);
        this.pending.delete(res.id);
        p?.resolve(res);
      }),
    );
    const fail = () => {
      for (const p of this.pending.values())
        p.reject(new Error('lost the connection to the vitest-disagg broker'));
      this.pending.clear();
    };
    socket.on('close', fail);
    socket.on('error', fail);
  }

  static connect(socketPath: string): Promise<BrokerClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath, () => resolve(new BrokerClient(socket)));
      socket.once('error', (err) =>
        reject(new Error(`cannot reach the vitest-disagg broker at ${socketPath}: ${err.message}`)),
      );
    });
  }

  private request(body: RequestBody): Promise<BrokerResponse> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ ...body, id }) + '\n');
    });
  }

  async run(testId: string, configFile?: string): Promise<JobOutcome> {
    const res = await this.request({ op: 'run', testId, ...(configFile ? { configFile } : {}) });
    if (!res.ok) throw new Error(res.error);
    if (!res.outcome) throw new Error(`broker returned no outcome for ${testId}`);
    return res.outcome;
  }

  async cancel(testId: string): Promise<void> {
    const res = await this.request({ op: 'cancel', testId });
    if (!res.ok) throw new Error(res.error);
  }

  close(): void {
    this.socket.end();
  }
}
