// Push-based completion on every executor, against the real local cluster (slurm, ssh) and this machine
// (local): with the safety poll at 60 s, a ~3 s job's end is seen through its done marker and judged
// after ONE poll — scheduler calls = submissions + 1 (one sbatch, one squeue), before any safety tick.
// A warm-up job first shows the watcher a marker of this run (only then may the tick slow down).
// Asserts order and counts, never wall time.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobBroker } from '../../src/broker/broker.js';
import { Ledger } from '../../src/broker/ledger.js';
import { CountingHost } from '../../src/executors/counting-host.js';
import { createExecutor } from '../../src/executors/index.js';
import { LocalHost } from '../../src/executors/local-host.js';
import { SshHost } from '../../src/executors/ssh-host.js';
import type { SshHostEvent } from '../../src/executors/types.js';
import { resolveSshSettings } from '../../src/executors/ssh-settings.js';
import { resolveSettings } from '../../src/settings/index.js';
import { BASH_JOB_SCRIPT, bashJobSpec } from './helpers/bash-job.js';
import { requireClusterEnv } from './helpers/cluster.js';

const RUN = randomBytes(3).toString('hex');
let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-it-push-'));
});
// In beforeEach: every test fails (not skips) without the cluster (the local one needs none).
beforeEach((ctx) => {
  if (!ctx.task.name.startsWith('local')) requireClusterEnv();
});
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (!process.env.DISAGG_SSH_HOST) return;
  const host = new SshHost(sshSettings());
  try {
    await host.exec(`rm -rf -- '${process.env.DISAGG_REMOTE_DIR}'/*/push_${RUN}_*`);
  } finally {
    await host.close();
  }
});

function sshSettings() {
  const s = resolveSettings({ executor: 'ssh' }, process.env).executorSettings;
  return resolveSshSettings(s.ssh, { home: process.env.HOME ?? s.homeDir, localUser: s.localUser });
}

/** A job that works `seconds` and then writes its done marker, as a TensorRT-LLM launcher does. */
function script(seconds: number): string {
  return `cd "\${SLURM_SUBMIT_DIR:-.}" && sleep ${seconds} && hostname > "8_done_\${SLURM_JOB_ID}.txt"`;
}

type Kind = 'local' | 'slurm' | 'ssh';

async function scenario(kind: Kind) {
  const options = resolveSettings({ executor: kind, safetyPollSec: 60 }, process.env, work);
  expect(options.safetyPollMs).toBe(60_000);
  const settings = {
    ...options.executorSettings,
    resources: 'single' as const,
    partition: process.env.LOCAL_CLUSTER_PARTITION,
    jobDirScripts: [BASH_JOB_SCRIPT],
  };
  const inner = kind === 'ssh' ? new SshHost(sshSettings()) : new LocalHost({ env: settings.childEnv });
  const host = new CountingHost(inner);
  const executor = await createExecutor(kind, settings, { host });
  const out = mkdtempSync(path.join(work, `${kind}-out-`));
  const specs = new Map([
    ['warmup', bashJobSpec(work, `push_${RUN}_${kind}_warmup`, script(1))],
    ['job', bashJobSpec(work, `push_${RUN}_${kind}_job`, script(3))],
  ]);
  const broker = new JobBroker({
    executor,
    ledger: new Ledger(out),
    settings: { ...options, resume: false },
    specFor: async (id) => specs.get(id) as never,
  });
  const events: string[] = [];
  const jobDirs = new Map<string, string>();
  broker.events.on('submitted', (e) => {
    events.push(`submitted ${e.testId}`);
    jobDirs.set(e.testId, e.jobDir);
  });
  broker.events.on('final', (e) => {
    events.push(`final ${e.testId} after ${broker.pollCalls - base.polls} poll(s)`);
  });
  let base = { polls: 0, markerPolls: 0 };
  try {
    const warm = await broker.run('warmup');
    expect(warm.state).toBe('COMPLETED');
    const streams = host.streams;
    host.reset();
    base = { polls: broker.pollCalls, markerPolls: broker.markerPolls };
    const outcome = await broker.run('job');
    expect(outcome.state, outcome.logTail).toBe('COMPLETED');
    // For the report only (wall time is never asserted): the marker's mtime → the job's outcome.
    const marker = path.posix.join(jobDirs.get('job') ?? '', `8_done_${outcome.jobId}.txt`);
    const mtime = await host.exec(`stat -c %.3Y '${marker}'`);
    const latency = Date.parse(outcome.endedAt ?? '') / 1000 - Number(mtime.stdout.trim());
    console.log(`${kind}: done marker written → job outcome ${latency.toFixed(2)} s`);
    const polls = broker.pollCalls - base.polls;
    const markerPolls = broker.markerPolls - base.markerPolls;
    return { polls, markerPolls, calls: { ...host.calls }, streams: streams + host.streams, events };
  } finally {
    await broker.close();
  }
}

/** The job's end was seen through its marker: one poll, the marker's; no safety tick before the verdict. */
function expectJudgedAfterItsMarker(r: { events: string[]; polls: number; markerPolls: number }): void {
  expect(r.events).toEqual([
    'submitted warmup',
    expect.stringMatching(/^final warmup/),
    'submitted job',
    'final job after 1 poll(s)',
  ]);
  expect(r.polls).toBe(1);
  expect(r.markerPolls).toBe(1);
}

describe.sequential(
  'push completion: a 3 s job is judged after its marker, before the 60 s safety poll',
  () => {
    it('local executor (fs.watch on the job dir)', { timeout: 40_000 }, async () => {
      const r = await scenario('local');
      expectJudgedAfterItsMarker(r);
    });

    for (const kind of ['slurm', 'ssh'] as const) {
      it(
        `${kind} executor (${kind === 'ssh' ? 'one watcher loop over the SSH connection' : 'fs.watch'})`,
        { timeout: 50_000 },
        async () => {
          const r = await scenario(kind);
          expectJudgedAfterItsMarker(r);
          // Scheduler calls = submissions + 1: one sbatch, one squeue (its sacct/scontrol reads the exit code).
          expect(r.calls.sbatch + r.calls.squeue, JSON.stringify(r.calls)).toBe(2);
          expect(r.calls.scancel).toBe(0);
          // Over SSH, ONE long-lived watcher command for both jobs of the run; none on this host.
          expect(r.streams).toBe(kind === 'ssh' ? 1 : 0);
        },
      );
    }

    it(
      'ssh: the watcher loop is restarted after the connection drops and still sees the marker',
      { timeout: 60_000 },
      async () => {
        const events: SshHostEvent[] = [];
        const settings = {
          ...resolveSettings({ executor: 'ssh' }, process.env, work).executorSettings,
          resources: 'single' as const,
          partition: process.env.LOCAL_CLUSTER_PARTITION,
          jobDirScripts: [BASH_JOB_SCRIPT],
        };
        const host = new CountingHost(new SshHost(sshSettings(), { onEvent: (e) => events.push(e) }));
        const ex = await createExecutor('ssh', settings, { host });
        const seen: string[] = [];
        const watcher = await ex.watchDone((id) => seen.push(id));
        try {
          expect(watcher).toBeDefined();
          const job = await ex.submit(bashJobSpec(work, `push_${RUN}_drop`, script(5)));
          watcher?.add(job);
          const until = async (cond: () => boolean, what: string) => {
            for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
            expect(cond(), what).toBe(true);
          };
          await until(() => watcher?.watching(job.jobId) === true, 'the loop is ready');
          // Kill this connection's own sshd (the remote shell's parent): every channel dies with it.
          const ppid = (await host.exec('echo $PPID')).stdout.trim();
          execFileSync('kill', ['-9', ppid]);
          await until(() => events.some((e) => e.type === 'connection-lost'), 'the drop is noticed');
          await until(() => seen.length > 0, 'the marker is seen after the restart');
          expect(seen).toEqual([job.jobId]);
          expect(host.streams).toBe(2);
          expect(host.calls.squeue).toBe(0);
          expect(events.filter((e) => e.type === 'connected' && e.reconnect).length).toBeGreaterThanOrEqual(
            1,
          );
        } finally {
          await watcher?.close();
          await ex.close();
        }
      },
    );
  },
);
