// Push-based completion for job dirs on a remote host (executor 'ssh'): ONE long-lived shell loop over
// the existing SSH connection watches the completion markers of every live job of the run. It stats the
// markers once a second (no inotify-tools needed, and it works on NFS, where inotify on the login node
// never sees files written by compute nodes) and prints one line per job whose marker appeared.
// Jobs are added and dropped through the loop's stdin, so a new job costs no new channel and no
// restart; the loop runs from the first job to the end of the run (one channel of the SSH host's
// budget) and is restarted only when it ends (connection lost, killed), after a growing wait.

import path from 'node:path';
import { completionMarkers } from '../jobdir/files.js';
import type { SubmittedJob } from '../types.js';
import { shq } from './shell-quote.js';
import { STREAM_REFUSED, type DoneWatcher, type Host, type StreamingCommand } from './types.js';

/**
 * The loop. stdin: `+<id>\t<marker>\t<marker>…` adds a job, `-<id>` drops one; EOF ends the loop.
 * stdout: `READY` once, then `SEEN <id>` per job with a marker (the job is dropped then).
 * Markers are stat'ed at most once a second, and at least once a second while lines keep coming.
 */
export const WATCH_LOOP = [
  'set -u',
  'declare -A m',
  'echo READY',
  'last=-1',
  'while :; do',
  '  if IFS= read -r -t 1 line; then',
  '    case "$line" in',
  "      +*) rest=${line#+}; m[${rest%%$'\\t'*}]=${rest#*$'\\t'} ;;",
  '      -*) unset "m[${line#-}]" ;;',
  '    esac',
  '    [ "$SECONDS" = "$last" ] && continue',
  '  elif [ $? -le 128 ]; then',
  '    exit 0',
  '  fi',
  '  last=$SECONDS',
  '  for id in "${!m[@]}"; do',
  '    IFS=$\'\\t\' read -r -a files <<< "${m[$id]}"',
  '    for f in "${files[@]}"; do',
  '      if [ -e "$f" ]; then echo "SEEN $id"; unset "m[$id]"; break; fi',
  '    done',
  '  done',
  'done',
].join('\n');

/** The command line that runs the loop (bash explicitly: the login shell may be anything). */
export const WATCH_COMMAND = `exec bash -c ${shq(WATCH_LOOP)}`;

/** A job id and paths the loop can take on one line (ids of SLURM are digits; paths of job dirs). */
const SAFE_ID = /^[A-Za-z0-9._-]+$/;

export interface RemoteDoneWatcherOptions {
  /** First wait before restarting a loop that ended, doubled each time up to `maxRestartDelayMs`. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  log?: (message: string) => void;
  /** The loop ended while jobs were watched: they are not covered until it is ready again. */
  onLapse?: () => void;
}

type Stream = NonNullable<Host['stream']>;

export class RemoteDoneWatcher implements DoneWatcher {
  /** Live jobs → the line that adds them to a loop (re-sent to a restarted loop). */
  private readonly jobs = new Map<string, string>();
  private loop?: StreamingCommand;
  /** The running loop printed READY: the markers of `jobs` are being watched. */
  private ready = false;
  private restartTimer?: NodeJS.Timeout;
  private failures = 0;
  private closed = false;
  /** Loops started so far (tests count restarts). */
  starts = 0;

  constructor(
    private readonly stream: Stream,
    private readonly onSeen: (jobId: string) => void,
    private readonly options: RemoteDoneWatcherOptions = {},
  ) {}

  add(job: SubmittedJob): void {
    if (this.closed || this.jobs.has(job.jobId)) return;
    const paths = completionMarkers(job.jobId).map((n) => path.posix.join(job.jobDir, n));
    if (!SAFE_ID.test(job.jobId) || paths.some((p) => /[\t\n\r]/.test(p))) return; // the tick covers it
    const line = `+${job.jobId}\t${paths.join('\t')}`;
    this.jobs.set(job.jobId, line);
    if (this.loop) this.loop.write(line);
    else this.start();
  }

  remove(jobId: string): void {
    if (!this.jobs.delete(jobId)) return;
    // The loop stays up with no job left (until close): a restart would cost a channel open, and a
    // job submitted meanwhile would not be watched until the new loop is ready.
    this.loop?.write(`-${jobId}`);
  }

  watching(jobId: string): boolean {
    return this.ready && this.jobs.has(jobId);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.jobs.clear();
    this.stop();
  }

  private start(): void {
    if (this.closed || this.loop || this.restartTimer) return;
    this.starts += 1;
    const loop = this.stream(WATCH_COMMAND, (line) => this.onLine(loop, line));
    this.loop = loop;
    // Every current job goes to the new loop: after a restart it knows nothing.
    for (const l of this.jobs.values()) loop.write(l);
    void loop.done.then((r) => this.ended(loop, r.code, r.stderr));
  }

  private onLine(loop: StreamingCommand, line: string): void {
    if (loop !== this.loop) return;
    if (line === 'READY') {
      this.ready = true;
      this.failures = 0;
      return;
    }
    const m = /^SEEN (\S+)$/.exec(line);
    if (!m || !this.jobs.has(m[1])) return;
    this.jobs.delete(m[1]);
    this.onSeen(m[1]);
  }

  private ended(loop: StreamingCommand, code: number | null, stderr: string): void {
    if (loop !== this.loop) return;
    this.loop = undefined;
    this.ready = false;
    if (this.closed) return;
    if (code === STREAM_REFUSED) {
      // The host cannot spare a channel: the scheduler tick alone sees jobs end, as without a watcher.
      this.closed = true;
      this.options.log?.(`done-marker watcher not started: ${stderr.trim()}; jobs end through the poll tick`);
      this.options.onLapse?.();
      return;
    }
    if (this.jobs.size === 0) return;
    const base = this.options.restartDelayMs ?? 1_000;
    const delay = Math.min(this.options.maxRestartDelayMs ?? 30_000, base * 2 ** this.failures);
    this.failures += 1;
    this.options.onLapse?.();
    this.options.log?.(
      `done-marker watcher ended (${code === null ? 'connection lost' : `exit ${code}`}` +
        `${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ''}); restarting in ${Math.round(delay / 1000)} s`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, delay);
    this.restartTimer.unref();
  }

  private stop(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const loop = this.loop;
    this.loop = undefined;
    this.ready = false;
    loop?.end();
  }
}
