// Waits that end early, without an error, when the job is aborted (Ctrl-C, scancel, a dead worker).
import { setTimeout as delay } from 'node:timers/promises';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
