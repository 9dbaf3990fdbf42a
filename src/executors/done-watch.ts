// Push-based completion for job dirs on this machine (executor 'local', and 'slurm' whose job dirs are
// the local log dirs): `fs.watch` on each live job's dir sees a completion marker the moment it is
// created, and a cheap stat sweep every second catches what inotify never reports (a file written by a
// compute node on a shared file system such as NFS).

import fs from 'node:fs';
import path from 'node:path';
import { completionMarkers } from '../jobdir/files.js';
import type { SubmittedJob } from '../types.js';
import type { DoneWatcher } from './types.js';

/** Seconds between stat sweeps of every watched marker (the NFS fallback). */
const SWEEP_MS = 1_000;

interface Watched {
  markers: Set<string>;
  paths: string[];
  watcher?: fs.FSWatcher;
}

export class LocalDoneWatcher implements DoneWatcher {
  private readonly jobs = new Map<string, Watched>();
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly onSeen: (jobId: string) => void,
    private readonly sweepMs = SWEEP_MS,
  ) {}

  add(job: SubmittedJob): void {
    if (this.closed || this.jobs.has(job.jobId)) return;
    const names = completionMarkers(job.jobId);
    const w: Watched = { markers: new Set(names), paths: names.map((n) => path.join(job.jobDir, n)) };
    this.jobs.set(job.jobId, w);
    try {
      w.watcher = fs.watch(job.jobDir, { persistent: false }, (_event, name) => {
        if (name !== null && w.markers.has(String(name))) this.check(job.jobId);
      });
      // A watcher error (dir removed, too many watches) leaves the sweep to see the marker.
      w.watcher.on('error', () => this.unwatch(w));
    } catch {
      // No inotify for this dir (limit reached, unsupported file system): the sweep still covers it.
    }
    this.check(job.jobId);
    this.startSweep();
  }

  remove(jobId: string): void {
    const w = this.jobs.get(jobId);
    if (!w) return;
    this.unwatch(w);
    this.jobs.delete(jobId);
    if (this.jobs.size === 0) this.stopSweep();
  }

  watching(jobId: string): boolean {
    return !this.closed && this.jobs.has(jobId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.jobs.keys()]) this.remove(id);
    this.stopSweep();
  }

  /** Report the job once if one of its markers exists, and stop watching it. */
  private check(jobId: string): void {
    const w = this.jobs.get(jobId);
    if (!w || !w.paths.some((p) => fs.existsSync(p))) return;
    this.remove(jobId);
    this.onSeen(jobId);
  }

  private unwatch(w: Watched): void {
    w.watcher?.close();
    w.watcher = undefined;
  }

  private startSweep(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setInterval(() => {
      for (const id of [...this.jobs.keys()]) this.check(id);
    }, this.sweepMs);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
