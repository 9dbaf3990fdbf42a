// When the broker polls next: young jobs fast, older ones backing off; a seen completion marker asks
// for a poll after a settle time; once the done-marker watcher covers every live job, only a safety tick.

import type { DoneWatcher } from '../executors/types.js';
import { MARKER_SETTLE_MS, type BrokerSettings, type Tracked } from './tracked.js';

/**
 * The tick may wait the safety interval: a marker of this run was seen (the watcher works where the
 * jobs write) and every live job is watched or has shown its marker.
 */
export function slowedOver(
  tracked: Iterable<Tracked>,
  markerSeen: boolean,
  watcher: DoneWatcher | null | undefined,
): boolean {
  if (!markerSeen || !watcher) return false;
  for (const t of tracked) {
    if (t.phase !== 'live' || !t.job || t.markerSeenAt !== undefined) continue;
    if (!watcher.watching(t.job.jobId)) return false;
  }
  return true;
}

/** Jobs whose marker was seen are polled after the settle time, then again (backing off) until final. */
export function markerIntervalOf(tracked: Iterable<Tracked>, settings: BrokerSettings): number {
  const settle = settings.markerSettleMs ?? MARKER_SETTLE_MS;
  let next = Infinity;
  for (const t of tracked) {
    if (t.phase !== 'live' || t.markerSeenAt === undefined) continue;
    const wait = Math.min(settings.pollMaxMs, settle * 2 ** (t.markerFollowUps ?? 0));
    next = Math.min(next, Math.max(0, t.markerSeenAt + wait - Date.now()));
  }
  return next;
}

export function backOffIntervalOf(tracked: Iterable<Tracked>, settings: BrokerSettings): number {
  const { pollMinMs, pollMaxMs } = settings;
  // Young jobs are polled fast (short jobs finish quickly); long jobs back off, up to pollMaxMs.
  let newest = -Infinity;
  for (const t of tracked) {
    if (t.phase !== 'live' || !t.job) continue;
    // Parsed once per job (this runs over every live job at each tick); reset when the job changes.
    if (t.submittedMs === undefined || t.submittedFor !== t.job) {
      t.submittedMs = Date.parse(t.job.submittedAt);
      t.submittedFor = t.job;
    }
    if (t.submittedMs > newest) newest = t.submittedMs;
  }
  if (newest === -Infinity) return pollMaxMs;
  return Math.min(pollMaxMs, Math.max(pollMinMs, (Date.now() - newest) / 10));
}
