// Fault injection on a running `scripts/local-cluster.sh` lab (as root): restart slurmctld, take sshd
// down and up again, set a node DOWN and resume it. Every daemon is restarted the way the script starts
// it (same binary, config, log and marker env), so `local-cluster.sh stop` still finds and stops it.
// `restoreLab` brings back whatever a fault left down; call it in `finally`/`afterAll`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { refused } from './processes.js';

export interface Lab {
  /** LOCAL_CLUSTER_DIR of the running lab. */
  dir: string;
  slurmConf: string;
  sshPort: number;
}

export function labFromEnv(env: NodeJS.ProcessEnv = process.env): Lab {
  const dir = env.LOCAL_CLUSTER_DIR;
  const slurmConf = env.SLURM_CONF;
  const sshPort = Number(env.DISAGG_SSH_PORT);
  if (!dir || !slurmConf || !Number.isInteger(sshPort)) {
    throw new Error(
      'LOCAL_CLUSTER_DIR, SLURM_CONF and DISAGG_SSH_PORT must come from `scripts/local-cluster.sh start` ' +
        '(run `npm test`, or eval the script output as root) to inject faults into the lab',
    );
  }
  return { dir, slurmConf, sshPort };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pidOf(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every live descendant of `root` (from /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // comm may hold spaces and parentheses: the fields after the last ')' are fixed.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0 && out.length < 10_000) {
    for (const c of children.get(todo.pop() as number) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await ok()) return;
    await sleep(100);
  }
  throw new Error(`lab fault injection: ${what} not reached within ${timeoutMs} ms`);
}

function slurmEnv(lab: Lab): NodeJS.ProcessEnv {
  return { ...process.env, SLURM_CONF: lab.slurmConf };
}

/** Start a daemon as the script does: marker env, SLURM_CONF, output appended to its log. */
function spawnDaemon(lab: Lab, log: string, argv: string[]): void {
  const fd = fs.openSync(path.join(lab.dir, 'log', log), 'a');
  try {
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      env: { ...slurmEnv(lab), LOCAL_CLUSTER_DAEMON: lab.dir },
      stdio: ['ignore', fd, fd],
      timeout: 30_000,
    });
    if (r.status !== 0)
      throw new Error(`${argv.join(' ')} exited ${r.status}${r.error ? `: ${r.error.message}` : ''}`);
  } finally {
    fs.closeSync(fd);
  }
}

export function ctldUp(lab: Lab): boolean {
  const r = spawnSync('scontrol', ['ping'], { env: slurmEnv(lab), encoding: 'utf8', timeout: 10_000 });
  return /is UP/.test(r.stdout ?? '');
}

function startCtld(lab: Lab): void {
  spawnDaemon(lab, 'slurmctld.out', ['/usr/sbin/slurmctld', '-i', '-f', lab.slurmConf]);
}

/** SIGTERM slurmctld (it saves its state), wait until it is gone, start it again, wait until it answers. */
export async function restartSlurmctld(lab: Lab): Promise<void> {
  const pid = pidOf(path.join(lab.dir, 'run/slurmctld.pid'));
  if (pid === undefined) throw new Error(`slurmctld of ${lab.dir} is not running`);
  process.kill(pid, 'SIGTERM');
  await waitFor('slurmctld exit', () => !isAlive(pid), 20_000);
  startCtld(lab);
  await waitFor('slurmctld up again', () => ctldUp(lab), 30_000);
}

function startSshd(lab: Lab): void {
  spawnDaemon(lab, 'sshd.out', [
    '/usr/sbin/sshd',
    '-f',
    path.join(lab.dir, 'ssh/sshd_config'),
    '-E',
    path.join(lab.dir, 'log/sshd.log'),
  ]);
}

/** Kill the lab's sshd and every session it serves (open connections drop), until `startSshdAgain`. */
export async function killSshd(lab: Lab): Promise<void> {
  const pid = pidOf(path.join(lab.dir, 'run/sshd.pid'));
  if (pid === undefined) throw new Error(`sshd of ${lab.dir} is not running`);
  const sessions = descendants(pid);
  for (const p of [pid, ...sessions]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor('sshd port closed', () => refused(lab.sshPort), 10_000);
}

export async function startSshdAgain(lab: Lab): Promise<void> {
  startSshd(lab);
  await waitFor('sshd port open', async () => !(await refused(lab.sshPort)), 15_000);
}

export interface RunningJob {
  jobId: string;
  name: string;
  node: string;
}

/** `[id, name, <field>]` of each job in `states` whose name starts with `prefix` (one squeue call). */
function squeueRows(lab: Lab, states: string, field: '%N' | '%T', prefix: string): string[][] {
  const out = execFileSync('squeue', ['-h', '-t', states, '-o', `%A|%j|${field}`], {
    env: slurmEnv(lab),
    encoding: 'utf8',
    timeout: 10_000,
  });
  return out
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter((f) => f.length === 3 && (f[1] as string).startsWith(prefix));
}

/** Running jobs whose name starts with `prefix` (one squeue call). */
export function runningJobs(lab: Lab, prefix: string): RunningJob[] {
  return squeueRows(lab, 'R', '%N', prefix).map(([jobId, name, node]) => ({
    jobId: jobId as string,
    name: name as string,
    node: node as string,
  }));
}

/** Every job (any state, as long as MinJobAge keeps it) whose name starts with `prefix`. */
export function jobsByName(lab: Lab, prefix: string): Array<{ jobId: string; name: string; state: string }> {
  return squeueRows(lab, 'all', '%T', prefix).map(([jobId, name, state]) => ({
    jobId: jobId as string,
    name: name as string,
    state: state as string,
  }));
}

/** `scontrol update state=down`: SLURM kills the node's jobs (NODE_FAIL without requeue). */
export function setNodeDown(lab: Lab, node: string, reason: string): void {
  execFileSync('scontrol', ['update', `nodename=${node}`, 'state=down', `reason=${reason}`], {
    env: slurmEnv(lab),
    timeout: 10_000,
  });
}

function downNodes(lab: Lab): string[] {
  const r = spawnSync('sinfo', ['-h', '-N', '-o', '%N %T'], {
    env: slurmEnv(lab),
    encoding: 'utf8',
    timeout: 10_000,
  });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 2 && /down|drain|fail/i.test(f[1] as string))
    .map((f) => f[0] as string);
}

/** Resume a node (ReturnToService=2 may already have); waits until it is no longer down. */
export async function resumeNode(lab: Lab, node: string): Promise<void> {
  spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume'], {
    env: slurmEnv(lab),
    timeout: 10_000,
  });
  await waitFor(`${node} back in service`, () => !downNodes(lab).includes(node), 30_000);
}

/** Bring back whatever a fault left down: slurmctld, sshd, DOWN nodes. Safe to call any time. */
export async function restoreLab(lab: Lab): Promise<void> {
  if (pidOf(path.join(lab.dir, 'run/slurmctld.pid')) === undefined) startCtld(lab);
  await waitFor('slurmctld up', () => ctldUp(lab), 30_000);
  if (await refused(lab.sshPort)) await startSshdAgain(lab);
  for (const node of downNodes(lab)) await resumeNode(lab, node);
}
