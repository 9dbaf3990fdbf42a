import type { Vitest } from 'vitest/node';
import { activeBroker } from '../broker/registry.js';
import { isTestRun } from './run-mode.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

type CancelReason = Parameters<Vitest['cancelCurrentRun']>[0];

/** What a test stopped by `signal` says happened (the fixtures turn the run's cancel reason into it too). */
export function cancelledBy(signal: NodeJS.Signals): string {
  return signal === 'SIGINT' ? 'cancelled by Ctrl-C' : `cancelled by ${signal}`;
}

/**
 * The reason Vitest hands to the tests' abort signal: Vitest's own Ctrl-C reason for SIGINT, the signal's
 * name otherwise (Vitest passes any string through), so a test can say which one stopped it.
 */
function cancelReason(signal: NodeJS.Signals): CancelReason {
  return (signal === 'SIGINT' ? 'keyboard-input' : signal) as CancelReason;
}

/**
 * Under `vitest run`, Vitest's own SIGINT/SIGTERM handler exits at once: no abort signal, no fixture
 * cleanup, jobs left running on the cluster. We replace it: the first signal cancels every job this run
 * submitted and cancels the run gracefully; a second one hands over to Vitest's handler (force exit).
 * A collection (`vitest list`) has no jobs and nothing to clean up: it exits at once.
 */
export function takeOverSignals(vitest: Vitest): void {
  let received = 0;
  for (const signal of SIGNALS) {
    const original = process.listeners(signal);
    process.removeAllListeners(signal);
    process.on(signal, () => {
      received++;
      if (!isTestRun(vitest)) {
        // `vitest list` (a collection) has submitted nothing: stop at once, even while configs load.
        for (const listener of original) (listener as (s: NodeJS.Signals) => void)(signal);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      if (received > 1) {
        console.error(
          `[vitest-disagg] ${signal} again: exiting now; jobs may be left (see \`disagg cancel\`).`,
        );
        for (const listener of original) (listener as (s: NodeJS.Signals) => void)(signal);
        if (!original.length) process.exit(130);
        return;
      }
      console.error(
        `[vitest-disagg] ${signal}: cancelling this run's jobs… (press Ctrl-C again to force exit)`,
      );
      const broker = activeBroker();
      const cancelled = broker ? broker.interrupt(cancelledBy(signal)) : Promise.resolve([]);
      void cancelled
        .then((ids) => ids.length && console.error(`[vitest-disagg] cancelled job(s) ${ids.join(', ')}`))
        .catch((err: Error) => console.error(`[vitest-disagg] cancelling jobs failed: ${err.message}`))
        .finally(() => void vitest.cancelCurrentRun(cancelReason(signal)));
    });
  }
}
