import type { JobBroker } from './broker.js';

// The plugin (loaded with the config) and the global setup (loaded by Vite's module runner) are separate
// module instances in the same process; a global symbol is how the signal handler finds the broker.
const KEY = Symbol.for('vitest-disagg.broker');

type Holder = { [KEY]?: JobBroker };

export function setActiveBroker(broker: JobBroker | undefined): void {
  (globalThis as Holder)[KEY] = broker;
}

export function activeBroker(): JobBroker | undefined {
  return (globalThis as Holder)[KEY];
}
