import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker } from '../../../src/broker/broker.js';
import { BrokerClient } from '../../../src/broker/client.js';
import { runDirFor } from '../../../src/broker/job-dirs.js';
import { Ledger } from '../../../src/broker/ledger.js';
import type { JobUpdate } from '../../../src/broker/protocol.js';
import { serveBroker } from '../../../src/broker/server.js';
import type { Executor } from '../../../src/executors/types.js';
import type { JobSpec, JobStatus, SubmittedJob } from '../../../src/types.js';

/** Jobs stay PENDING (Resources) until released, then run two polls (writing a bench line) and complete. */
class GatedExecutor implements Executor {
  readonly kind = 'slurm' as const;
  released = false;
  private runningPolls = new Map<string, number>();
  private n = 0;
  async submit(spec: JobSpec): Promise<SubmittedJob> {
    const jobId = String(900 + ++this.n);
    fs.mkdirSync(spec.localLogDir, { recursive: true });
    return { jobId, testId: spec.testId, jobDir: spec.localLogDir, submittedAt: new Date().toISOString() };
  }
  async poll(jobs: readonly SubmittedJob[]): Promise<Map<string, JobStatus>> {
    const out = new Map<string, JobStatus>();
    for (const j of jobs) {
      if (!this.released) {
        out.set(j.jobId, { jobId: j.jobId, state: 'PENDING', reason: 'Resources' });
        continue;
      }
      const k = (this.runningPolls.get(j.jobId) ?? 0) + 1;
      this.runningPolls.set(j.jobId, k);
      fs.appendFileSync(path.join(j.jobDir, '6_bench.log'), `Benchmarking with concurrency ${k * 8}\n`);
      out.set(
        j.jobId,
        k > 2
          ? { jobId: j.jobId, state: 'COMPLETED', exitCode: '0:0', nodes: 'node1' }
          : { jobId: j.jobId, state: 'RUNNING', nodes: 'node1' },
      );
    }
    return out;
  }
  async cancel(): Promise<void> {}
  async scanEarlyFailure(): Promise<string | undefined> {
    return undefined;
  }
  async fetchLogs(): Promise<void> {}
  async close(): Promise<void> {}
}

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-push-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

/** Wait for what the broker and the socket do on their own; the bound is only a safety net. */
async function until(ok: () => boolean, what: string, boundMs = 15_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('job updates pushed to the waiting worker', () => {
  it('replays what happened before the worker asked, then streams each state and progress until the outcome', async () => {
    const exec = new GatedExecutor();
    const broker = new JobBroker({
      executor: exec,
      ledger: new Ledger(out),
      runId: '20261129-050000-abcd',
      settings: { maxJobsInFlight: 0, pollMinMs: 2, pollMaxMs: 5, resume: false, scanEveryMs: 0 },
      specFor: async (testId) => ({
        testId,
        configHash: 'h',
        config: {},
        configFile: '/x.yaml',
        localLogDir: runDirFor(out, '20261129-050000-abcd', testId),
        timeLimitMs: 60_000,
      }),
    });
    const server = await serveBroker(broker);
    const client = await BrokerClient.connect(server.socketPath);
    try {
      // Submitted up front (another test asked first): the job is PENDING before this worker asks.
      let pending = false;
      broker.events.on('states', (changes) => {
        if (changes.some((e) => e.state === 'PENDING')) pending = true;
      });
      broker.plan(['t1']);
      void broker.run('t1');
      await until(() => pending, 'PENDING');

      const updates: JobUpdate[] = [];
      const outcome = client.run('t1', { onUpdate: (u) => updates.push(u) });
      await until(() => updates.length >= 2, 'the replayed updates');
      expect(updates.map((u) => u.kind)).toEqual(['submitted', 'state']);
      expect(updates[1]).toMatchObject({ kind: 'state', event: { state: 'PENDING', reason: 'Resources' } });

      exec.released = true;
      const result = await outcome;
      expect(result.state).toBe('COMPLETED');
      const states = updates.flatMap((u) => (u.kind === 'state' ? [u.event.state] : []));
      expect(states).toEqual(['PENDING', 'RUNNING', 'COMPLETED']);
      const running = updates.find((u) => u.kind === 'state' && u.event.state === 'RUNNING');
      expect(running).toMatchObject({ event: { nodes: 'node1', jobId: '901' } });
      const cons = updates.flatMap((u) => (u.kind === 'progress' ? [u.event.concurrency] : []));
      expect(cons.length).toBeGreaterThan(0);
      expect(cons[0]).toBe(8);
      // The submitted update carries the time limit the heartbeats compare with.
      expect(updates[0]).toMatchObject({ kind: 'submitted', event: { jobId: '901', timeLimitMs: 60_000 } });

      // After the answer, nothing more reaches that listener.
      const n = updates.length;
      await broker.events.emit('states', [
        {
          testId: 't1',
          jobId: '901',
          state: 'COMPLETED',
          since: new Date().toISOString(),
          terminal: true,
        },
      ]);
      await new Promise((r) => setTimeout(r, 20));
      expect(updates).toHaveLength(n);
    } finally {
      client.close();
      await broker.close();
      await server.close();
    }
  });
});
