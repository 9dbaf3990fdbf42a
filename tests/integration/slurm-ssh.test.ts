// The SLURM executor against the REAL local cluster (scripts/local-cluster.sh): sbatch/squeue/scontrol/
// scancel over a real OpenSSH sshd (executor 'ssh') and on this machine (executor 'slurm').
// Start the cluster first:  set -a; eval "$(bash scripts/local-cluster.sh start)"; set +a
// These tests never skip: without the cluster env they fail and say how to start it.
// Job scripts are tiny bash scripts, not the simulator, so each outcome is exact.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobExecutor } from '../../src/executors/executor.js';
import { createExecutor } from '../../src/executors/index.js';
import { remoteJobDir } from '../../src/executors/job-dir.js';
import { HostKeyError, SshHost, type SshHostEvent } from '../../src/executors/ssh-host.js';
import { resolveSshSettings, type SshInput } from '../../src/executors/ssh-settings.js';
import type { Executor, ExecutorExtras } from '../../src/executors/types.js';
import { resolveSettings } from '../../src/settings/resolve.js';
import { BASH_JOB_SCRIPT, bashJobSpec } from './helpers/bash-job.js';
import { requireClusterEnv } from './helpers/cluster.js';
import { TERMINAL_STATES, type JobSpec, type JobStatus, type SubmittedJob } from '../../src/types.js';

const RUN = randomBytes(3).toString('hex');
let work: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'disagg-it-slurm-'));
});
// In beforeEach, not beforeAll: every test is reported FAILED (not skipped) without the cluster.
beforeEach(() => requireClusterEnv());
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (!process.env.DISAGG_SSH_HOST) return;
  // Tidy the shared cluster: this run's remote job dirs.
  const host = new SshHost(labSsh());
  try {
    await host.exec(
      `rm -rf -- '${process.env.DISAGG_REMOTE_DIR}'/*/it_${RUN}_* '${process.env.DISAGG_REMOTE_DIR}'/it_${RUN}_*`,
    );
  } finally {
    await host.close();
  }
});

/** The lab's executor settings (from its env file) with the test's overrides. */
function labSettings(kind: 'ssh' | 'slurm') {
  const s = resolveSettings({ executor: kind }, process.env).executorSettings;
  return {
    ...s,
    resources: 'single' as const,
    partition: process.env.LOCAL_CLUSTER_PARTITION,
    jobDirScripts: [BASH_JOB_SCRIPT],
  };
}

/** SSH settings of the lab, with `over` applied to the input. */
function labSsh(over: SshInput = {}, env: NodeJS.ProcessEnv = process.env) {
  const s = resolveSettings({ executor: 'ssh' }, env).executorSettings;
  return resolveSshSettings({ ...s.ssh, ...over }, { home: env.HOME ?? s.homeDir, localUser: s.localUser });
}

/** A tiny bash job for this run. */
function spec(name: string, script: string, extra: { jobTime?: string } = {}): JobSpec {
  return bashJobSpec(work, `it_${RUN}_${name}`, script, extra);
}

interface Counted {
  executor: JobExecutor;
  commands: string[];
  events: SshHostEvent[];
}

/** An executor whose Host.exec calls are recorded (to count squeue calls per tick). */
async function executor(kind: 'ssh' | 'slurm', extra: ExecutorExtras = {}): Promise<Counted> {
  const events: SshHostEvent[] = [];
  const ex = await createExecutor(kind, labSettings(kind), {
    sshHost: { onEvent: (e: SshHostEvent) => events.push(e) },
    ...extra,
  });
  const commands: string[] = [];
  const host = ex.host;
  const exec = host.exec.bind(host);
  host.exec = (command, options) => {
    commands.push(command);
    return exec(command, options);
  };
  return { executor: ex, commands, events };
}

/** Poll until every job is terminal (or UNKNOWN); returns the final statuses and the number of ticks. */
async function waitAll(
  ex: Executor,
  jobs: SubmittedJob[],
  timeoutMs: number,
  onTick?: (statuses: Map<string, JobStatus>) => Promise<void> | void,
): Promise<{ statuses: Map<string, JobStatus>; ticks: number; seen: Set<string> }> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Set<string>();
  let ticks = 0;
  for (;;) {
    const st = await ex.poll(jobs);
    ticks += 1;
    for (const s of st.values()) seen.add(s.state);
    await onTick?.(st);
    if ([...st.values()].every((s) => TERMINAL_STATES.has(s.state) || s.state === 'UNKNOWN')) {
      return { statuses: st, ticks, seen };
    }
    if (Date.now() > deadline)
      throw new Error(`jobs not finished after ${timeoutMs} ms: ${JSON.stringify([...st.values()])}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.concurrent('executor ssh → sbatch on the local cluster', () => {
  it('COMPLETED, logs fetched (subdirs too), job dir made before sbatch', async () => {
    const { executor: ex } = await executor('ssh');
    try {
      const s = spec(
        'ok',
        'echo "hello from $SLURM_JOB_ID in $PWD"; echo bench-log > 6_bench.log; mkdir -p concurrency_8; echo \'{"ok":1}\' > concurrency_8/result.json',
      );
      const job = await ex.submit(s);
      expect(job.jobDir).toBe(remoteJobDir(process.env.DISAGG_REMOTE_DIR as string, s));
      expect(path.posix.dirname(path.posix.dirname(job.jobDir))).toBe(process.env.DISAGG_REMOTE_DIR);
      const { statuses } = await waitAll(ex, [job], 60_000);
      expect(statuses.get(job.jobId)).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      await ex.fetchLogs(job, s.localLogDir);
      const out = readFileSync(path.join(s.localLogDir, `slurm-${job.jobId}.out`), 'utf8');
      expect(out).toContain(`hello from ${job.jobId} in ${job.jobDir}`);
      expect(readFileSync(path.join(s.localLogDir, '6_bench.log'), 'utf8')).toBe('bench-log\n');
      expect(readFileSync(path.join(s.localLogDir, 'concurrency_8', 'result.json'), 'utf8')).toContain(
        '"ok":1',
      );
      for (const f of ['config.yaml', 'ctx_config.yaml', 'gen_config.yaml', 'job.sh']) {
        expect(existsSync(path.join(s.localLogDir, f))).toBe(true);
      }
      expect(readdirSync(s.localLogDir).some((f) => f.startsWith('.disagg-submit'))).toBe(false);
    } finally {
      await ex.close();
    }
  });

  it('exit 3 → FAILED with exit code 3:0', async () => {
    const { executor: ex } = await executor('ssh');
    try {
      const job = await ex.submit(spec('exit3', 'echo failing; exit 3'));
      const { statuses } = await waitAll(ex, [job], 60_000);
      expect(statuses.get(job.jobId)).toMatchObject({
        state: 'FAILED',
        exitCode: '3:0',
        reason: 'NonZeroExitCode',
      });
    } finally {
      await ex.close();
    }
  });

  it('scancel → CANCELLED (COMPLETING on the way is not final)', async () => {
    const { executor: ex, commands } = await executor('ssh');
    try {
      const job = await ex.submit(spec('cancel', 'sleep 300'));
      let cancelled = false;
      const { statuses, seen } = await waitAll(ex, [job], 60_000, async (st) => {
        if (!cancelled && st.get(job.jobId)?.state === 'RUNNING') {
          cancelled = true;
          await ex.cancel([job]);
        }
      });
      expect(cancelled).toBe(true);
      expect(statuses.get(job.jobId)?.state).toBe('CANCELLED');
      expect(seen.has('RUNNING')).toBe(true);
      expect(commands.filter((c) => c.startsWith('scancel'))).toEqual([`scancel ${job.jobId}`]);
    } finally {
      await ex.close();
    }
  });

  it('missing logs: a job that leaves no output, and a job dir that is gone, fetch without error', async () => {
    const { executor: ex } = await executor('ssh');
    try {
      const s = spec('nologs', 'rm -f -- "slurm-$SLURM_JOB_ID.out" "slurm-$SLURM_JOB_ID.err"; exit 0');
      const job = await ex.submit(s);
      const { statuses } = await waitAll(ex, [job], 60_000);
      expect(statuses.get(job.jobId)?.state).toBe('COMPLETED');
      await ex.fetchLogs(job, s.localLogDir);
      expect(readdirSync(s.localLogDir).filter((f) => f.startsWith('slurm-'))).toEqual([]);
      expect(existsSync(path.join(s.localLogDir, 'config.yaml'))).toBe(true);
      // The whole remote dir gone (cleaned by someone): an empty result, not an exception.
      await ex.host.exec(`rm -rf -- '${job.jobDir}'`);
      const empty = path.join(work, `${s.testId}-empty`);
      await ex.fetchLogs(job, empty);
      expect(readdirSync(empty)).toEqual([]);
      expect(await ex.scanEarlyFailure(job)).toBeUndefined();
    } finally {
      await ex.close();
    }
  });

  it('early failure: the fatal line of a worker log is found over ssh', async () => {
    const { executor: ex } = await executor('ssh');
    try {
      const script = [
        'head -c 500000 /dev/zero | tr "\\0" x > 3_output_CTX_0.log',
        'printf "\\n[E] Traceback (most recent call last):\\n  File \\"w.py\\"\\nmpi4py.MPI.Comm.allgather failed\\n" >> 3_output_GEN_0.log',
        'sleep 300',
      ].join('\n');
      const job = await ex.submit(spec('fatal', script));
      let fatal: string | undefined;
      for (let i = 0; i < 60 && !fatal; i += 1) {
        fatal = await ex.scanEarlyFailure(job);
        if (!fatal) await new Promise((r) => setTimeout(r, 500));
      }
      expect(fatal).toMatch(/^3_output_GEN_0\.log: MPI communication error: .*allgather/);
      await ex.cancel([job]);
      const { statuses } = await waitAll(ex, [job], 60_000);
      expect(statuses.get(job.jobId)?.state).toBe('CANCELLED');
    } finally {
      await ex.close();
    }
  });

  it('SSH drop mid-wait: the per-connection sshd is killed, the executor reconnects and gets the final state', async () => {
    const { executor: ex, events } = await executor('ssh');
    try {
      const job = await ex.submit(spec('drop', 'sleep 6; exit 4'));
      // The remote shell's parent is this connection's own sshd process (`sshd: bench@notty`).
      const ppid = (await ex.host.exec('echo $PPID')).stdout.trim();
      const sshdBench = execFileSync('pgrep', ['-f', 'sshd: bench']).toString().split('\n').filter(Boolean);
      expect(sshdBench).toContain(ppid);
      // A command in flight when the connection dies must be re-run, never returned with code null.
      const inflight = ex.host.exec('sleep 2; echo survived');
      await new Promise((r) => setTimeout(r, 500));
      execFileSync('kill', ['-9', ppid]);
      const r = await inflight;
      expect(r).toMatchObject({ code: 0, stdout: 'survived\n' });
      const { statuses } = await waitAll(ex, [job], 60_000);
      expect(statuses.get(job.jobId)).toMatchObject({ state: 'FAILED', exitCode: '4:0' });
      expect(events.some((e) => e.type === 'connection-lost')).toBe(true);
      expect(events.filter((e) => e.type === 'connected' && e.reconnect).length).toBeGreaterThanOrEqual(1);
    } finally {
      await ex.close();
    }
  });

  it('12 jobs: one squeue call per poll tick for all of them', async () => {
    const { executor: ex, commands } = await executor('ssh');
    try {
      const jobs = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          ex.submit(spec(`many${i}`, `sleep ${1 + (i % 3)}; exit ${i % 2}`)),
        ),
      );
      const perTick: Array<{ squeue: number; scontrol: number; sacct: number }> = [];
      await waitAll(ex, jobs, 120_000, () => {
        const squeue = commands.filter((c) => c.startsWith('squeue')).length;
        const scontrol = commands.filter((c) => c.includes('scontrol show job')).length;
        const sacct = commands.filter((c) => c.startsWith('sacct')).length;
        perTick.push({ squeue, scontrol, sacct });
        commands.length = 0;
      });
      const { statuses } = await waitAll(ex, jobs, 1000);
      jobs.forEach((j, i) => {
        expect(statuses.get(j.jobId)).toMatchObject(
          i % 2 ? { state: 'FAILED', exitCode: '1:0' } : { state: 'COMPLETED', exitCode: '0:0' },
        );
      });
      expect(perTick.length).toBeGreaterThan(1);
      for (const t of perTick) expect(t.squeue).toBe(1);
      // Exit codes are looked up once per job at most, batched: never more scontrol execs than ticks.
      const scontrolTotal = perTick.reduce((a, t) => a + t.scontrol, 0);
      expect(scontrolTotal).toBeLessThanOrEqual(perTick.length);
      expect(perTick.reduce((a, t) => a + t.sacct, 0)).toBeLessThanOrEqual(1); // disabled → remembered
      console.log(
        `[12 jobs] ticks=${perTick.length} squeue=${perTick.length} scontrol execs=${scontrolTotal}`,
      );
    } finally {
      await ex.close();
    }
  });

  it('many concurrent commands on one connection: ≤4 channels, no Channel open failure reaches the caller', async () => {
    const settings = labSsh();
    const events: SshHostEvent[] = [];
    const host = new SshHost(settings, { onEvent: (e) => events.push(e) });
    try {
      let maxInUse = 0;
      const results = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const p = host.exec(`echo ${i}`);
          maxInUse = Math.max(maxInUse, host.channelsInUse);
          return p;
        }),
      );
      expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      expect(maxInUse).toBeLessThanOrEqual(4);
      // big binary-safe round trip: writeFile + getFile (whole and tail)
      const remote = path.posix.join(process.env.DISAGG_REMOTE_DIR as string, `it_${RUN}_bytes.bin`);
      const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
      await host.writeFile(remote, data, 0o640);
      const local = path.join(work, 'bytes.bin');
      await host.getFile(remote, local);
      expect(readFileSync(local).equals(data)).toBe(true);
      await host.getFile(remote, local, 1000);
      expect(readFileSync(local).equals(data.subarray(data.length - 1000))).toBe(true);
      expect(
        (await host.listFiles(process.env.DISAGG_REMOTE_DIR as string)).find(
          (f) => f.path === `it_${RUN}_bytes.bin`,
        )?.size,
      ).toBe(300_000);
      await expect(host.getFile(`${remote}.missing`, local)).rejects.toMatchObject({ code: 'ENOENT' });
      await host.exec(`rm -f -- '${remote}'`);
    } finally {
      await host.close();
    }
  });

  it('an unknown host key refuses to connect and says how to trust it; a changed key says ssh-keygen -R', async () => {
    const empty = path.join(work, 'known_hosts_empty');
    writeFileSync(empty, '');
    const settings = labSsh({ knownHostsPaths: [empty] });
    const host = new SshHost(settings);
    const err = await host.exec('true').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyError);
    const msg = (err as Error).message;
    expect(msg).toContain(`ssh-keyscan -p ${settings.port} -t ed25519 ${settings.host} >> ${empty}`);
    await host.close();

    // The right key type for the right host, but a different key: "changed".
    const other = path.join(work, 'otherkey');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const [type, b64] = readFileSync(`${other}.pub`, 'utf8').split(/\s+/);
    const changed = path.join(work, 'known_hosts_changed');
    writeFileSync(changed, `[${settings.host}]:${settings.port} ${type} ${b64}\n`);
    const host2 = new SshHost(labSsh({ knownHostsPaths: [changed] }));
    await expect(host2.exec('true')).rejects.toThrow(/HOST KEY CHANGED[\s\S]*ssh-keygen -R/);
    await host2.close();
  });

  it('a Host alias from an ssh config, reached through a ProxyJump bastion (the same sshd)', async () => {
    const cfg = path.join(work, 'ssh_config');
    const e = process.env;
    writeFileSync(
      cfg,
      [
        'Host labjump',
        `  HostName ${e.DISAGG_SSH_HOST}`,
        `  Port ${e.DISAGG_SSH_PORT}`,
        `  User ${e.DISAGG_SSH_USER}`,
        `  IdentityFile ${e.DISAGG_SSH_KEY}`,
        'Host lab',
        `  HostName ${e.DISAGG_SSH_HOST}`,
        `  Port ${e.DISAGG_SSH_PORT}`,
        `  User ${e.DISAGG_SSH_USER}`,
        `  IdentityFile ${e.DISAGG_SSH_KEY}`,
        '  ProxyJump labjump',
        '',
      ].join('\n'),
    );
    const settings = resolveSshSettings(
      {
        host: 'lab',
        sshConfigPath: cfg,
        knownHostsPaths: e.DISAGG_SSH_KNOWN_HOSTS ? [e.DISAGG_SSH_KNOWN_HOSTS] : undefined,
        agent: false,
      },
      { home: e.HOME ?? '/nonexistent' },
    );
    expect(settings.proxyJump).toMatchObject({ host: e.DISAGG_SSH_HOST, port: Number(e.DISAGG_SSH_PORT) });
    const host = new SshHost(settings);
    try {
      const r = await host.exec('echo "$SSH_CONNECTION"; whoami');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(e.DISAGG_SSH_USER as string);
      expect(host.description).toContain(' via ');
    } finally {
      await host.close();
    }
  });

  it('[SLOW: 60–90 s] --time=0:01 → TIMEOUT', async () => {
    const { executor: ex } = await executor('ssh');
    try {
      const job = await ex.submit(spec('timeout', 'sleep 600', { jobTime: '0:01' }));
      const { statuses } = await waitAll(ex, [job], 150_000);
      expect(statuses.get(job.jobId)).toMatchObject({ state: 'TIMEOUT', reason: 'TimeLimit' });
    } finally {
      await ex.close();
    }
  }, 180_000);
});

describe.concurrent('executor slurm (sbatch on this machine, SLURM_CONF from env)', () => {
  it('COMPLETED and FAILED in the local log dir itself; cancel; one squeue per tick', async () => {
    const { executor: ex, commands } = await executor('slurm');
    try {
      const okSpec = spec('local_ok', 'echo local > 6_bench.log');
      const failSpec = spec('local_fail', 'exit 7');
      const longSpec = spec('local_cancel', 'sleep 300');
      const jobs = [await ex.submit(okSpec), await ex.submit(failSpec), await ex.submit(longSpec)];
      expect(jobs[0].jobDir).toBe(okSpec.localLogDir);
      commands.length = 0;
      const squeuePerTick: number[] = [];
      let cancelled = false;
      const { statuses } = await waitAll(ex, jobs, 60_000, async (st) => {
        squeuePerTick.push(commands.filter((c) => c.startsWith('squeue')).length);
        commands.length = 0;
        if (!cancelled && st.get(jobs[2].jobId)?.state === 'RUNNING') {
          cancelled = true;
          await ex.cancel([jobs[2]]);
        }
      });
      expect(statuses.get(jobs[0].jobId)).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
      expect(statuses.get(jobs[1].jobId)).toMatchObject({ state: 'FAILED', exitCode: '7:0' });
      expect(statuses.get(jobs[2].jobId)?.state).toBe('CANCELLED');
      expect(squeuePerTick.every((n) => n === 1)).toBe(true);
      // The job wrote straight into the local log dir: fetching is a no-op.
      await ex.fetchLogs(jobs[0], okSpec.localLogDir);
      expect(readFileSync(path.join(okSpec.localLogDir, '6_bench.log'), 'utf8')).toBe('local\n');
      expect(existsSync(path.join(okSpec.localLogDir, `slurm-${jobs[0].jobId}.out`))).toBe(true);
    } finally {
      await ex.close();
    }
  });
});
