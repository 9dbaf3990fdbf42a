import type { Executor, ExecutorKind } from '../executors/types.js';

/**
 * An executor created on first real use: `vitest list` and runs that submit nothing never need SSH
 * settings or a connection, so a missing `DISAGG_SSH_HOST` only fails when a job is really submitted.
 */
export function lazyExecutor(kind: ExecutorKind, create: () => Promise<Executor>): Executor {
  let made: Promise<Executor> | undefined;
  const get = (): Promise<Executor> => (made ??= create());
  return {
    kind,
    submit: async (spec) => (await get()).submit(spec),
    poll: async (jobs) => (jobs.length ? (await get()).poll(jobs) : new Map()),
    cancel: async (jobs) => (jobs.length ? (await get()).cancel(jobs) : undefined),
    scanEarlyFailure: async (job) => (await get()).scanEarlyFailure(job),
    fetchLogs: async (job, dir) => (await get()).fetchLogs(job, dir),
    explainPending: async (job, reason) => {
      const e = await get();
      return e.explainPending ? e.explainPending(job, reason) : { never: true };
    },
    watchDone: async (onSeen, onLapse) => (await get()).watchDone?.(onSeen, onLapse),
    // Asked only when a dead run left write-ahead intents, so a clean start still connects to nothing.
    reconcile: async (tokens, dirs) => {
      const executor = await get();
      return executor.reconcile ? executor.reconcile(tokens, dirs) : undefined;
    },
    close: async () => {
      // Never create an executor just to close it; one that failed to be created has nothing to close.
      if (made) await (await made.catch(() => undefined))?.close();
    },
  };
}
