import type { JobOutcome } from '../types.js';
import type { ProgressEvent, StateEvent, SubmittedEvent } from './events.js';

// Newline-delimited JSON over a unix socket in a 0700 directory: only this user can connect.

export type BrokerRequest =
  // configFile: the YAML the test runs (a hand-written test may run one outside the config dir).
  | { id: number; op: 'run'; testId: string; configFile?: string }
  | { id: number; op: 'cancel'; testId: string }
  // The test judged the job and its results are written: the job is consumed.
  | { id: number; op: 'consumed'; testId: string; jobId: string }
  | { id: number; op: 'ping' };

export type BrokerResponse =
  { id: number; ok: true; outcome?: JobOutcome } | { id: number; ok: false; error: string };

/** What happened to a test's job, as the broker's event said it. */
export type JobUpdate =
  | { kind: 'submitted'; event: SubmittedEvent }
  | { kind: 'state'; event: StateEvent }
  | { kind: 'progress'; event: ProgressEvent };

/**
 * Pushed, unasked, to the connection waiting for a test's job (a `run` request): the updates seen before
 * it asked, then each new one until the answer. It has no `id`: it answers nothing.
 */
export interface BrokerPush {
  push: 'job';
  testId: string;
  update: JobUpdate;
}

/** Split a stream of chunks into complete lines. */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  };
}
