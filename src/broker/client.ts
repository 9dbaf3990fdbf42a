import net from 'node:net';
import type { JobOutcome } from '../types.js';
import {
  lineSplitter,
  type BrokerPush,
  type BrokerRequest,
  type BrokerResponse,
  type JobUpdate,
} from './protocol.js';

type Pending = { resolve: (res: BrokerResponse) => void; reject: (err: Error) => void };
type RequestBody = BrokerRequest extends infer R ? (R extends BrokerRequest ? Omit<R, 'id'> : never) : never;

/** A worker's connection to the main-process broker. */
export class BrokerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, (update: JobUpdate) => void>();

  private constructor(private readonly socket: net.Socket) {
    socket.on(
      'data',
      lineSplitter((line) => {
        const msg = JSON.parse(line) as BrokerResponse | BrokerPush;
        if ('push' in msg) {
          try {
            this.listeners.get(msg.testId)?.(msg.update);
          } catch {
            // a listener's failure must not lose the answers still to come
          }
          return;
        }
        const res = msg;
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

  /**
   * Wait for a test's job. `onUpdate` hears what happens to it meanwhile (state, progress); a
   * hand-written test names its YAML (`configFile`), which may lie outside the config dir.
   */
  async run(
    testId: string,
    opts: { configFile?: string; onUpdate?: (update: JobUpdate) => void } = {},
  ): Promise<JobOutcome> {
    const { configFile, onUpdate } = opts;
    if (onUpdate) this.listeners.set(testId, onUpdate);
    let res: BrokerResponse;
    try {
      res = await this.request({ op: 'run', testId, ...(configFile ? { configFile } : {}) });
    } finally {
      if (onUpdate) this.listeners.delete(testId);
    }
    if (!res.ok) throw new Error(res.error);
    if (!res.outcome) throw new Error(`broker returned no outcome for ${testId}`);
    return res.outcome;
  }

  async cancel(testId: string): Promise<void> {
    const res = await this.request({ op: 'cancel', testId });
    if (!res.ok) throw new Error(res.error);
  }

  /** The test judged its job and wrote its results. */
  async consumed(testId: string, jobId: string): Promise<void> {
    const res = await this.request({ op: 'consumed', testId, jobId });
    if (!res.ok) throw new Error(res.error);
  }

  close(): void {
    this.socket.end();
  }
}
