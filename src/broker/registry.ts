import type { JobBroker } from './broker.js';
import type { BrokerEvents } from './events.js';

// The plugin (loaded with the config) and the global setup (loaded by Vite's module runner) are separate
// module instances in the same process; a global symbol is how the signal handler finds the broker, and
// how reporters (created with the config, before any broker exists) subscribe to its events.
const KEY = Symbol.for('vitest-disagg.broker');

/** Called with each broker's events when it becomes active; may return an unsubscribe function. */
export type BrokerSubscriber = (events: BrokerEvents) => (() => void) | void;

interface Registry {
  broker?: JobBroker;
  subscribers: Set<BrokerSubscriber>;
  detach: Array<() => void>;
}

type Holder = { [KEY]?: Registry };

function registry(): Registry {
  const holder = globalThis as Holder;
  return (holder[KEY] ??= { subscribers: new Set(), detach: [] });
}

export function setActiveBroker(broker: JobBroker | undefined): void {
  const r = registry();
  for (const off of r.detach.splice(0)) off();
  r.broker = broker;
  if (!broker) return;
  for (const subscribe of r.subscribers) {
    const off = subscribe(broker.events);
    if (off) r.detach.push(off);
  }
}

export function activeBroker(): JobBroker | undefined {
  return registry().broker;
}

/**
 * Subscribe to the events of the active broker and of every later one (watch mode starts a new broker
 * per run). Returns the function that stops it for future brokers.
 */
export function onBrokerEvents(subscriber: BrokerSubscriber): () => void {
  const r = registry();
  r.subscribers.add(subscriber);
  if (r.broker) {
    const off = subscriber(r.broker.events);
    if (off) r.detach.push(off);
  }
  return () => r.subscribers.delete(subscriber);
}
