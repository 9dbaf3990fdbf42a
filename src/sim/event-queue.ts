// The discrete-event simulation's clock: a binary min-heap of events by time. Events at the same time
// come out in the order they were scheduled, so a run is deterministic for its inputs.

interface Entry<T> {
  at: number;
  order: number;
  event: T;
}

export class EventQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private scheduled = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, event: T): void {
    const e: Entry<T> = { at, order: this.scheduled++, event };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e, h[parent] as Entry<T>)) break;
      h[i] = h[parent] as Entry<T>;
      i = parent;
    }
    h[i] = e;
  }

  /** The earliest event and its time, or undefined when none is left. */
  pop(): { at: number; event: T } | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as Entry<T>;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r] as Entry<T>, h[l] as Entry<T>) ? r : l;
        if (!before(h[c] as Entry<T>, last)) break;
        h[i] = h[c] as Entry<T>;
        i = c;
      }
      h[i] = last;
    }
    return { at: top.at, event: top.event };
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
