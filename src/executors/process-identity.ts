// Proof that a pid (from this run or from the ledger) is still the local job we started: the OS reuses
// pids, and a ledger can be edited, so a bare pid must never be signalled (`kill(-1)` as root signals
// every process). Linux /proc only; elsewhere nothing can be proven and nothing is signalled.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { ProcessIdentity } from '../types.js';

/** The variable that carries a job's token into its environment (and its children's). */
export const JOB_TOKEN_VAR = 'DISAGG_JOB_TOKEN';

export function newJobToken(): string {
  return randomBytes(16).toString('hex');
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if unreadable. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  return rest[19];
}

/** Process group of a pid (field 5 of /proc/<pid>/stat). */
function processGroup(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

/** true/false when /proc/<pid>/environ could be read, undefined when it could not (other user). */
function environHasToken(pid: number, token: string): boolean | undefined {
  try {
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
    return env.split('\0').includes(`${JOB_TOKEN_VAR}=${token}`);
  } catch {
    return undefined;
  }
}

/** Members of a process group: a bounded scan of /proc. */
function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of entries.slice(0, 100_000)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (processGroup(pid) === pgid) members.push(pid);
  }
  return members;
}

export type GroupCheck = { ours: true } | { ours: false; gone: boolean; why: string };

/**
 * Is process group `pgid` (led by the job's pid) still the job `id` describes? Yes when its leader has
 * the recorded start time (and, when readable, the token in its environment), or — the leader gone — when
 * a member of the group provably carries the token. Anything else is refused, with the reason.
 */
export function checkJobGroup(pid: number | undefined, id: ProcessIdentity | undefined): GroupCheck {
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 1)
    return { ours: false, gone: false, why: `pid ${String(pid)} is not a job's process group (must be > 1)` };
  if (!id || typeof id.startTime !== 'string' || typeof id.token !== 'string' || !id.token)
    return {
      ours: false,
      gone: false,
      why: `pid ${pid} has no recorded start time and token (ledger of an older version): cannot prove it is our job`,
    };
  const start = processStartTime(pid);
  if (start !== undefined) {
    if (start !== id.startTime)
      return {
        ours: false,
        gone: true,
        why: `pid ${pid} started at tick ${start}, not ${id.startTime}: the job is gone and the pid was reused`,
      };
    if (environHasToken(pid, id.token) === false)
      return {
        ours: false,
        gone: true,
        why: `pid ${pid} does not carry the job's ${JOB_TOKEN_VAR}: not our job`,
      };
    return { ours: true };
  }
  // The leader exited; children it left in the group are still ours if they carry the token.
  const members = groupMembers(pid);
  if (!members.length) return { ours: false, gone: true, why: `pid ${pid}: the job is already gone` };
  if (members.some((m) => environHasToken(m, id.token) === true)) return { ours: true };
  return {
    ours: false,
    gone: false,
    why: `process group ${pid}: its leader is gone and no member provably carries the job's ${JOB_TOKEN_VAR}`,
  };
}

/**
 * Live local jobs carrying one of `tokens` in their environment: process-group leaders whose
 * `DISAGG_JOB_TOKEN` is a write-ahead token (a bounded scan of /proc). Gives the job id the job got
 * (`SLURM_JOB_ID`), its pid and the identity that proves it later.
 */
export function findJobGroupsByToken(
  tokens: ReadonlySet<string>,
): Map<string, { jobId: string; pid: number; procId: ProcessIdentity }> {
  const found = new Map<string, { jobId: string; pid: number; procId: ProcessIdentity }>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries.slice(0, 100_000)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid <= 1 || processGroup(pid) !== pid) continue;
    let env: string[];
    try {
      env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const token = env.find((e) => e.startsWith(`${JOB_TOKEN_VAR}=`))?.slice(JOB_TOKEN_VAR.length + 1);
    if (!token || !tokens.has(token)) continue;
    const jobId = env.find((e) => e.startsWith('SLURM_JOB_ID='))?.slice('SLURM_JOB_ID='.length);
    const startTime = processStartTime(pid);
    if (!jobId || startTime === undefined) continue;
    found.set(token, { jobId, pid, procId: { startTime, token } });
  }
  return found;
}
