import type { ProgressEvent, StateEvent } from '../broker/events.js';

// The words of the live progress lines, shared by the main-process view and the worker's annotations.
// Pure functions of the broker's events: the same event always reads the same.

/** `45s`, `5m00s`, `4h00m`: short enough for a status line, exact enough to compare with a time limit. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `05:12:03`, local wall-clock time of an ISO 8601 instant (what a person compares with their clock). */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `job 1234 disagg_stress_x`: how every line names a job. */
export function jobLabel(jobId: string, testId: string): string {
  return `job ${jobId} ${testId}`;
}

/**
 * What a state change says: `PENDING (Resources)`, `RUNNING on node[1-2] since 05:12:03`, `COMPLETING`,
 * `FAILED (exit 1:0, NonZeroExitCode)`.
 */
export function describeState(
  e: Pick<StateEvent, 'state' | 'reason' | 'nodes' | 'since' | 'exitCode'>,
): string {
  if (e.state === 'RUNNING') return `RUNNING${e.nodes ? ` on ${e.nodes}` : ''} since ${formatClock(e.since)}`;
  const details = [e.exitCode && e.exitCode !== '0:0' ? `exit ${e.exitCode}` : '', e.reason ?? ''].filter(
    Boolean,
  );
  return details.length ? `${e.state} (${details.join(', ')})` : e.state;
}

/** `reached concurrency 64` (with the blocks already done, when any). */
export function describeProgress(e: Pick<ProgressEvent, 'concurrency' | 'concurrenciesDone'>): string {
  const done = e.concurrenciesDone.length ? ` (done: ${e.concurrenciesDone.join(', ')})` : '';
  return e.concurrency === undefined
    ? `benchmark started${done}`
    : `reached concurrency ${e.concurrency}${done}`;
}

/** What a job looks like at a heartbeat. */
export interface JobSnapshot {
  jobId: string;
  testId: string;
  state: string;
  reason?: string;
  nodes?: string;
  /** When the job was submitted and when it was first seen RUNNING (ms since the epoch). */
  submittedAt: number;
  runningSince?: number;
  timeLimitMs?: number;
  concurrency?: number;
}

/**
 * `RUNNING 5m00s / 4h00m, concurrency 64` or `PENDING 2m10s (Resources)`: the time a running job has
 * used of its limit, or how long a waiting one has waited and why.
 */
export function describeHeartbeat(job: JobSnapshot, now: number): string {
  if (job.runningSince !== undefined && job.state !== 'PENDING') {
    const limit = job.timeLimitMs ? ` / ${formatElapsed(job.timeLimitMs)}` : '';
    const con = job.concurrency !== undefined ? `, concurrency ${job.concurrency}` : '';
    return `${job.state} ${formatElapsed(now - job.runningSince)}${limit}${con}`;
  }
  return `${job.state} ${formatElapsed(now - job.submittedAt)}${job.reason ? ` (${job.reason})` : ''}`;
}
