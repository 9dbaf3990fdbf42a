// Jobs that can never start (pending reasons such as PartitionTimeLimit): noticed on the poll tick,
// cancelled after a grace period (a reason can be transient right after submission), and their test
// failed with the reason and the limit. Reasons that only mean "wait" are never acted on.

import { classifyPendingReason, neverStartHint, reasonCode } from '../executors/pending-reasons.js';
import type { JobState } from '../types.js';
import { secondsText } from './poll-give-up.js';

/** Default grace before a never-startable job is cancelled. */
export const NEVER_START_GRACE_MS = 60_000;

/** What the broker does about a job after this tick's poll. */
export type NeverStartStep =
  { kind: 'noticed'; reason: string } | { kind: 'held'; reason: string } | { kind: 'due'; reason: string };

/** Per job: since when its pending reason has said "never" (or "held", told once). */
export class NeverStartWatch {
  private readonly since = new Map<string, { reason: string; at: number }>();
  private readonly heldTold = new Map<string, string>();

  constructor(
    readonly graceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Feed one polled state; a changed or cleared reason restarts the grace period. */
  observe(jobId: string, state: JobState, reason: string | undefined): NeverStartStep | undefined {
    // The common case of a wide run (thousands RUNNING, nothing watched): nothing to classify or forget.
    if (state !== 'PENDING' && this.since.size === 0 && this.heldTold.size === 0) return undefined;
    const cls = state === 'PENDING' ? classifyPendingReason(reason) : 'wait';
    if (cls !== 'held') this.heldTold.delete(jobId);
    if (cls !== 'never' || !reason) {
      this.since.delete(jobId);
      if (cls === 'held' && reason && this.heldTold.get(jobId) !== reason) {
        this.heldTold.set(jobId, reason);
        return { kind: 'held', reason };
      }
      return undefined;
    }
    const seen = this.since.get(jobId);
    if (!seen || reasonCode(seen.reason) !== reasonCode(reason)) {
      this.since.set(jobId, { reason, at: this.now() });
      return this.graceMs <= 0 ? { kind: 'due', reason } : { kind: 'noticed', reason };
    }
    return this.now() - seen.at >= this.graceMs ? { kind: 'due', reason } : undefined;
  }

  /** The scheduler said the job may start after all (e.g. its nodes came back): watch it afresh. */
  forget(jobId: string): void {
    this.since.delete(jobId);
  }

  graceText(): string {
    return secondsText(this.graceMs);
  }
}

/**
 * The test's failure: `PENDING (PartitionTimeLimit): job_time 00:05:00 exceeds partition short MaxTime
 * 00:01:00 — cancelled after 60 s; lower slurm.job_time or pick another partition`.
 */
export function neverStartMessage(reason: string, detail: string | undefined, grace: string): string {
  const code = reasonCode(reason);
  const what = detail ?? `the job can never start as submitted (${reason})`;
  return `PENDING (${code}): ${what} — cancelled after ${grace}; ${neverStartHint(code)}`;
}

/** Told once when a job is first seen never-startable. */
export function neverStartNotice(testId: string, jobId: string, reason: string, grace: string): string {
  return `${testId}: job ${jobId} PENDING (${reason}) can never start as submitted; it is cancelled in ${grace} unless the reason changes`;
}

/** Told once when a job is held: a person must act, the run never releases or cancels it. */
export function heldNotice(testId: string, jobId: string, reason: string): string {
  return `${testId}: job ${jobId} is held (${reason}): it waits until someone runs \`scontrol release ${jobId}\` (or cancels it); the run leaves it alone`;
}
