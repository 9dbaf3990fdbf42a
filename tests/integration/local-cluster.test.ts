// Integration test of the local test cluster itself (scripts/local-cluster.sh): real sshd on 127.0.0.1,
// real SLURM 22.05 (munge, slurmctld, N x slurmd). The cluster must have been started by the caller:
//   set -a; eval "$(scripts/local-cluster.sh start)"; set +a      (or just `npm test`)
// These tests never skip: without the env they fail and say how to start the cluster.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { NodeSSH } from 'node-ssh';
import { requireClusterEnv } from './helpers/cluster.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface ClusterEnv {
  host: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
  remoteDir: string;
  slurmConf: string;
  slots: number;
  partition: string;
  accounting: boolean;
}

function clusterEnv(): ClusterEnv {
  const e = requireClusterEnv();
  return {
    host: e.DISAGG_SSH_HOST,
    port: Number(e.DISAGG_SSH_PORT),
    user: e.DISAGG_SSH_USER,
    key: e.DISAGG_SSH_KEY,
    knownHosts: e.DISAGG_SSH_KNOWN_HOSTS,
    remoteDir: e.DISAGG_REMOTE_DIR,
    slurmConf: e.SLURM_CONF,
    slots: Number(e.LOCAL_CLUSTER_SLOTS),
    partition: e.LOCAL_CLUSTER_PARTITION,
    accounting: process.env.LOCAL_CLUSTER_ACCOUNTING === '1',
  };
}

/** Base64 key blobs that known_hosts lists for host:port (plain or hashed `|1|salt|hash` entries). */
function knownKeysFor(file: string, host: string, port: number): string[] {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys: string[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, , blob] = line.split(/\s+/);
    if (!hosts || !blob) continue;
    const match = hosts.split(',').some((h) => {
      if (h.startsWith('|1|')) {
        const [, , salt, hash] = h.split('|');
        if (!salt || !hash) return false;
        return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
      }
      return h === name;
    });
    if (match) keys.push(blob);
  }
  return keys;
}

async function connect(env: ClusterEnv, knownHostsFile = env.knownHosts): Promise<NodeSSH> {
  const allowed = knownKeysFor(knownHostsFile, env.host, env.port);
  const ssh = new NodeSSH();
  await ssh.connect({
    host: env.host,
    port: env.port,
    username: env.user,
    privateKeyPath: env.key,
    readyTimeout: 10_000,
    // without hostHash ssh2 passes the raw host key blob
    hostVerifier: (key: Buffer) => allowed.includes(key.toString('base64')),
  });
  return ssh;
}

async function run(ssh: NodeSSH, cmd: string, cwd?: string): Promise<string> {
  const r = await ssh.execCommand(cmd, cwd ? { cwd } : {});
  if (r.code === null) throw new Error(`connection lost while running: ${cmd}`);
  if (r.code !== 0) throw new Error(`\`${cmd}\` exited ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout.trim();
}

function jobId(sbatchOut: string): string {
  const id = sbatchOut.trim().split(';')[0] ?? '';
  expect(id).toMatch(/^\d+$/);
  return id;
}

/** Polls `squeue -t all` for all ids in ONE call per tick until pred(states) holds. */
async function pollStates(
  ssh: NodeSSH,
  ids: string[],
  pred: (states: Map<string, string>) => boolean,
  timeoutMs: number,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let states = new Map<string, string>();
  for (;;) {
    const out = await run(ssh, `squeue -h -t all -j ${ids.join(',')} -o '%i|%T'`);
    states = new Map(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('|') as [string, string]),
    );
    if (pred(states)) return states;
    if (Date.now() > deadline) {
      throw new Error(`timed out; states: ${JSON.stringify(Object.fromEntries(states))}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY']);

describe('local cluster (scripts/local-cluster.sh): sshd + SLURM', () => {
  let env: ClusterEnv;
  let ssh: NodeSSH;
  const submitted: string[] = [];

  // A setup error (no env, cannot connect) makes every test FAIL with it, rather than be reported skipped.
  let setupError: unknown;
  const ready = (): void => {
    if (setupError) throw setupError;
  };

  beforeAll(async () => {
    try {
      env = clusterEnv();
      ssh = await connect(env);
    } catch (e) {
      setupError = e;
    }
  });

  afterAll(async () => {
    if (ssh?.isConnected()) {
      if (submitted.length > 0) await ssh.execCommand(`scancel ${submitted.join(' ')}`);
      ssh.dispose();
    }
  });

  it('exports a complete, usable environment', () => {
    ready();
    expect(env.host).toBe('127.0.0.1');
    expect(Number.isInteger(env.port) && env.port > 0).toBe(true);
    expect(existsSync(env.key)).toBe(true);
    expect(knownKeysFor(env.knownHosts, env.host, env.port)).toHaveLength(1);
    expect(existsSync(env.slurmConf)).toBe(true);
    expect(env.slots).toBeGreaterThanOrEqual(4);
  });

  it('logs in with the key as the unprivileged user, whose session sees SLURM_CONF', async () => {
    ready();
    expect((await run(ssh, 'id -un; echo "$SLURM_CONF"')).split('\n')).toEqual([env.user, env.slurmConf]);
    expect(await run(ssh, `test -d ${env.remoteDir} && test -w ${env.remoteDir} && echo ok`)).toBe('ok');
    expect(await run(ssh, 'sinfo -h -o %P')).toContain(env.partition);
  });

  it('refuses a host key that is not in known_hosts', async () => {
    ready();
    // same host entry, different key blob
    const other = readFileSync(env.knownHosts, 'utf8').replace(
      /(ssh-ed25519\s+)\S+/,
      '$1AAAAC3NzaC1lZDI1NTE5AAAAIG5vdA',
    );
    const tmp = `${env.knownHosts}.test-${process.pid}`;
    writeFileSync(tmp, other);
    try {
      await expect(connect(env, tmp)).rejects.toThrow(/Host denied/);
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  it('runs a job as the user through ssh -> sbatch -> slurmd, with node on the job PATH', async () => {
    ready();
    const id = jobId(
      await run(
        ssh,
        `sbatch --parsable --job-name=lc-test --output=lc-test-%j.out --wrap 'hostname; id -un; node --version'`,
        env.remoteDir,
      ),
    );
    submitted.push(id);
    const states = await pollStates(ssh, [id], (s) => TERMINAL.has(s.get(id) ?? ''), 90_000);
    expect(states.get(id)).toBe('COMPLETED');
    const lines = (await run(ssh, `cat ${env.remoteDir}/lc-test-${id}.out`)).split('\n');
    expect(lines[0]).toBe(hostname().split('.')[0]);
    expect(lines[1]).toBe(env.user);
    expect(lines[2]).toMatch(/^v\d+\.\d+\.\d+$/);
    const job = await run(ssh, `scontrol show job ${id}`);
    expect(job).toMatch(/JobState=COMPLETED/);
    expect(job).toMatch(/ExitCode=0:0/);
    expect(job).toMatch(/NodeList=node\d+/);
    await ssh.execCommand(`rm -f ${env.remoteDir}/lc-test-${id}.out`);
  });

  it('runs 4 one-CPU jobs at once (all RUNNING together)', async () => {
    ready();
    const out = await run(
      ssh,
      `for i in 1 2 3 4; do sbatch --parsable --job-name=lc-par --output=/dev/null --wrap 'sleep 10' || exit 1; done`,
      env.remoteDir,
    );
    const ids = out.split('\n').map(jobId);
    submitted.push(...ids);
    expect(ids).toHaveLength(4);
    // Concurrent, not serial: all four seen RUNNING at once (each sleeps long enough for slurmd to start
    // the others on a loaded machine).
    await pollStates(ssh, ids, (s) => ids.every((id) => s.get(id) === 'RUNNING'), 60_000);
    const final = await pollStates(
      ssh,
      ids,
      (s) => ids.every((id) => TERMINAL.has(s.get(id) ?? '')),
      120_000,
    );
    expect([...final.values()]).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
  });

  it('cancels a running job with scancel over ssh', async () => {
    ready();
    const id = jobId(
      await run(
        ssh,
        `sbatch --parsable --job-name=lc-cancel --output=/dev/null --wrap 'sleep 60'`,
        env.remoteDir,
      ),
    );
    submitted.push(id);
    await pollStates(ssh, [id], (s) => s.get(id) === 'RUNNING', 60_000);
    await run(ssh, `scancel ${id}`);
    const s = await pollStates(ssh, [id], (st) => TERMINAL.has(st.get(id) ?? ''), 60_000);
    expect(s.get(id)).toBe('CANCELLED');
  });

  it('sacct matches the accounting mode (disabled unless LOCAL_CLUSTER_ACCOUNTING=1)', async () => {
    ready();
    const r = await ssh.execCommand('sacct -n -X -o JobID,State -S now-1hour');
    if (env.accounting) {
      expect(r.code).toBe(0);
    } else {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/accounting storage is disabled/i);
    }
  });

  it('works for root on this machine with SLURM_CONF (sbatch, squeue, scontrol, scancel)', () => {
    ready();
    const opts = { encoding: 'utf8' as const, env: process.env, timeout: 10_000 };
    const id = jobId(
      execFileSync(
        'sbatch',
        ['--parsable', '--output=/dev/null', '--job-name=lc-root', '--wrap', 'sleep 30'],
        opts,
      ),
    );
    submitted.push(id);
    expect(execFileSync('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%u'], opts).trim()).toBe('root');
    execFileSync('scancel', [id], opts);
    expect(execFileSync('scontrol', ['show', 'job', id], opts)).toMatch(/JobState=(CANCELLED|COMPLETING)/);
  });
});
