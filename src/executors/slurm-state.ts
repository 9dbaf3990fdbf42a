// Parsers for SLURM's job-state commands (squeue, sacct, scontrol) and the mapping to JobState.
// Formats and edge cases observed on SLURM 22.05 (the lab of scripts/local-cluster.sh).

import type { JobState } from '../types.js';
import { TERMINAL_STATES } from '../types.js';

/** One job's state as reported by a single source. */
export interface RawJobState {
  jobId: string;
  state: JobState;
  /** The state word as SLURM printed it (e.g. `CANCELLED by 1001`). */
  rawState: string;
  reason?: string;
  exitCode?: string;
  /** SLURM's node list (`node[1-3,5]`), when the job has nodes. */
  nodes?: string;
  /** When the job started (ISO 8601): SLURM's StartTime once the job is past pending. */
  startedAt?: string;
  /** When the job ended (ISO 8601): SLURM's EndTime, only once the state is final. */
  endedAt?: string;
}

/**
 * A SLURM time (`2024-05-01T12:00:34`, the controller's local time, no zone) → ISO 8601; undefined for
 * `Unknown`, `None`, `N/A` or anything else unreadable.
 */
export function parseSlurmTime(text: string | undefined): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const t = new Date(y, mo - 1, d, h, mi, s).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/**
 * The job's own start and end from SLURM's StartTime/EndTime. A pending job's StartTime is only the
 * expected start and a live job's EndTime its time limit: neither is kept.
 */
function jobTimes(
  state: JobState,
  start: string | undefined,
  end: string | undefined,
): { startedAt?: string; endedAt?: string } {
  if (state === 'PENDING' || state === 'REQUEUED' || state === 'UNKNOWN') return {};
  const startedAt = parseSlurmTime(start);
  const endedAt = isTerminal(state) ? parseSlurmTime(end) : undefined;
  return { ...(startedAt ? { startedAt } : {}), ...(endedAt ? { endedAt } : {}) };
}

const STATE_ALIASES: Record<string, JobState> = {
  PENDING: 'PENDING',
  PD: 'PENDING',
  CONFIGURING: 'CONFIGURING',
  CF: 'CONFIGURING',
  RUNNING: 'RUNNING',
  R: 'RUNNING',
  COMPLETING: 'COMPLETING',
  CG: 'COMPLETING',
  // Still finishing up (epilog / burst buffer / signalling): not terminal yet.
  STAGE_OUT: 'COMPLETING',
  SO: 'COMPLETING',
  SIGNALING: 'COMPLETING',
  SI: 'COMPLETING',
  SUSPENDED: 'SUSPENDED',
  S: 'SUSPENDED',
  STOPPED: 'SUSPENDED',
  ST: 'SUSPENDED',
  REQUEUED: 'REQUEUED',
  RQ: 'REQUEUED',
  REQUEUE_HOLD: 'REQUEUED',
  RH: 'REQUEUED',
  REQUEUE_FED: 'REQUEUED',
  RF: 'REQUEUED',
  RESV_DEL_HOLD: 'PENDING',
  RD: 'PENDING',
  RESIZING: 'RESIZING',
  RS: 'RESIZING',
  COMPLETED: 'COMPLETED',
  CD: 'COMPLETED',
  FAILED: 'FAILED',
  F: 'FAILED',
  SPECIAL_EXIT: 'FAILED',
  SE: 'FAILED',
  TIMEOUT: 'TIMEOUT',
  TO: 'TIMEOUT',
  CANCELLED: 'CANCELLED',
  CA: 'CANCELLED',
  REVOKED: 'CANCELLED',
  RV: 'CANCELLED',
  NODE_FAIL: 'NODE_FAIL',
  NF: 'NODE_FAIL',
  OUT_OF_MEMORY: 'OUT_OF_MEMORY',
  OOM: 'OUT_OF_MEMORY',
  PREEMPTED: 'PREEMPTED',
  PR: 'PREEMPTED',
  BOOT_FAIL: 'BOOT_FAIL',
  BF: 'BOOT_FAIL',
  DEADLINE: 'DEADLINE',
  DL: 'DEADLINE',
};

/** Map a SLURM state word (long or short form, possibly `CANCELLED by 1001` or `RUNNING+`) to JobState. */
export function toJobState(raw: string): JobState {
  const word = raw.trim().split(/\s+/)[0]?.replace(/\+$/, '').toUpperCase() ?? '';
  return STATE_ALIASES[word] ?? 'UNKNOWN';
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** `CANCELLED by 1001` → `cancelled by uid 1001` (sacct's only hint at who cancelled). */
function cancelledBy(rawState: string): string | undefined {
  const m = /^CANCELLED\s+by\s+(\S+)/i.exec(rawState.trim());
  return m ? `cancelled by uid ${m[1]}` : undefined;
}

function cleanReason(r: string | undefined): string | undefined {
  if (r === undefined) return undefined;
  const t = r.trim();
  return t === '' || t === 'None' || t === '(null)' ? undefined : t;
}

/** A plain numeric job id: array (`12_3`) and het-job (`12+0`) components are not ours. */
function isPlainId(id: string): boolean {
  return /^\d+$/.test(id);
}

/** A node list as squeue/scontrol print it; none for a job without nodes (pending: empty or `(null)`). */
function cleanNodes(n: string | undefined): string | undefined {
  const t = n?.trim() ?? '';
  return t === '' || t === '(null)' || t === 'None' || /^None assigned$/i.test(t) ? undefined : t;
}

/** The squeue format parseSqueue reads: the node list before the reason, the only free text. */
export const SQUEUE_FORMAT = '%i|%T|%N|%r';

/**
 * `squeue -h -t all -j id1,id2 -o '%i|%T|%N|%r'`: one `id|STATE|nodes|reason` line per known job. Node
 * lists hold brackets, commas and dashes (`gpu[01-03,07],cpu1`) but never `|`; the reason takes the rest.
 */
export function parseSqueue(stdout: string): Map<string, RawJobState> {
  const out = new Map<string, RawJobState>();
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const [id, st, nodes, ...rest] = t.split('|');
    if (!id || st === undefined || !isPlainId(id.trim())) continue;
    const jobId = id.trim();
    const n = cleanNodes(nodes);
    out.set(jobId, {
      jobId,
      state: toJobState(st),
      rawState: st.trim(),
      reason: cleanReason(rest.join('|')),
      ...(n ? { nodes: n } : {}),
    });
  }
  return out;
}

/**
 * `id|STATE|workdir|comment` rows (squeue `%i|%T|%Z|%k`, sacct `JobID,State,WorkDir,Comment`) whose
 * comment is one of `tokens`. The comment is matched as the whole last field, so a work dir holding `|`
 * does not confuse it; the last row of a job id wins.
 */
export function parseReconcileRows(
  stdout: string,
  tokens: ReadonlySet<string>,
): Array<{ token: string; job: { jobId: string; state: JobState; jobDir?: string } }> {
  const out = new Map<string, { token: string; job: { jobId: string; state: JobState; jobDir?: string } }>();
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    const cut = t.lastIndexOf('|');
    if (cut < 0) continue;
    const token = t.slice(cut + 1);
    if (!tokens.has(token)) continue;
    const [id, st, ...dir] = t.slice(0, cut).split('|');
    if (!id || st === undefined || !isPlainId(id.trim())) continue;
    const jobDir = dir.join('|').trim();
    out.set(token, {
      token,
      job: { jobId: id.trim(), state: toJobState(st), ...(jobDir ? { jobDir } : {}) },
    });
  }
  return [...out.values()];
}

/** The sacct fields parseSacct reads with `times` (Reason last: the only free text; it may be left off). */
export const SACCT_FIELDS = 'JobID,State,ExitCode,Start,End,Reason';

/**
 * `sacct -n -P -X -j ids -o JobID,State,ExitCode,Reason`, or with `times` the fields of SACCT_FIELDS
 * (`JobID,State,ExitCode,Start,End[,Reason]`). Several rows can exist for one id (requeues, lag rows
 * right after the job ends); the last row wins.
 */
export function parseSacct(stdout: string, times = false): Map<string, RawJobState> {
  const out = new Map<string, RawJobState>();
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const [id, st, exit, ...more] = t.split('|');
    if (!id || st === undefined || !isPlainId(id.trim())) continue;
    const [start, end, ...rest] = times ? more : [undefined, undefined, ...more];
    const jobId = id.trim();
    const rawState = st.trim();
    const state = toJobState(rawState);
    const reason = cancelledBy(rawState) ?? cleanReason(rest.join('|'));
    const exitCode = exit?.trim() || undefined;
    out.set(jobId, { jobId, state, rawState, reason, exitCode, ...jobTimes(state, start, end) });
  }
  return out;
}

/**
 * `scontrol show job -o <id>` (one line per job, `Key=Value` pairs). Several jobs' outputs may be
 * concatenated; error lines (`slurm_load_jobs error: Invalid job id specified`) are ignored.
 */
export function parseScontrol(stdout: string): Map<string, RawJobState> {
  const out = new Map<string, RawJobState>();
  for (const line of stdout.split('\n')) {
    const fields = scontrolFields(line);
    const jobId = fields.get('JobId');
    const st = fields.get('JobState');
    if (!jobId || !st || !isPlainId(jobId)) continue;
    const nodes = cleanNodes(fields.get('NodeList'));
    const state = toJobState(st);
    out.set(jobId, {
      jobId,
      state,
      rawState: st,
      reason: cleanReason(fields.get('Reason')),
      exitCode: fields.get('ExitCode'),
      ...(nodes ? { nodes } : {}),
      ...jobTimes(state, fields.get('StartTime'), fields.get('EndTime')),
    });
  }
  return out;
}

/** Split one `scontrol -o` line into its `Key=Value` fields (values never contain ` Key=`). */
export function scontrolFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const keys: Array<{ key: string; start: number; valueStart: number }> = [];
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    keys.push({ key: m[1], start: m.index, valueStart: m.index + m[0].length });
  }
  keys.forEach((k, i) => {
    const end = i + 1 < keys.length ? keys[i + 1].start : line.length;
    if (!fields.has(k.key)) fields.set(k.key, line.slice(k.valueStart, end).trim());
  });
  return fields;
}

/** squeue/scontrol refusing an id that is unknown or past MinJobAge (exit 1). */
export function isInvalidJobIdError(stderr: string): boolean {
  return /Invalid job id specified/i.test(stderr);
}

/** sacct on a cluster without slurmdbd (exit 1): stop calling it. */
export function isAccountingDisabled(stderr: string): boolean {
  return /accounting storage is disabled/i.test(stderr);
}

/**
 * sbatch refused because of a per-user/association limit or a passing controller hiccup: worth
 * waiting and trying again, unlike a bad partition or option.
 */
export function isRetryableSubmitError(stderr: string): boolean {
  return (
    /QOSMaxSubmitJobPerUserLimit|AssocMaxSubmitJobLimit|MaxSubmitJobs|QOSMaxJobsPerUserLimit/i.test(stderr) ||
    /Job violates accounting\/QOS policy/i.test(stderr) ||
    /Unable to contact slurm controller|Socket timed out|Slurm temporarily unable|Resource temporarily unavailable|Zero Bytes were transmitted or received/i.test(
      stderr,
    )
  );
}
