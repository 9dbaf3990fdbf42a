// A tick spends at most its CPU budget on the state changes its poll found: they are told and written in
// slices, job ends first, and what is left is taken from the next poll. With a budget of 0 every tick
// handles exactly one slice, so the split is seen without any clock.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateEvent } from '../../../src/broker/events.js';
import { STATE_SLICE } from '../../../src/broker/tracked.js';
import { FakeScheduler } from '../../fixtures/fake-scheduler.js';
import { runEveryTest, widthBroker, widthTestIds } from '../../fixtures/width-run.js';
import { archivedLines } from './ledger-files.js';

const N = 1_200;

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'broker-tick-budget-'));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

describe('the tick CPU budget', () => {
  it('spreads a burst of state changes over ticks, ends first, and still judges every job once', async () => {
    // Job i RUNNING at its first poll, COMPLETED at its 2nd or 3rd.
    const scheduler = new FakeScheduler(2);
    const { broker: b, judged: finals } = widthBroker(out, scheduler, {
      pollMinMs: 5,
      pollMaxMs: 20,
      tickCpuBudgetMs: 0,
    });
    const batches: Array<{ poll: number; changes: StateEvent[] }> = [];
    b.events.on('states', (changes) => void batches.push({ poll: b.pollCalls, changes }));
    await runEveryTest(b, widthTestIds(N));
    await b.close();

    // One slice per tick: never more than STATE_SLICE changes, never two batches in one tick.
    expect(batches.every((x) => x.changes.length <= STATE_SLICE)).toBe(true);
    expect(new Set(batches.map((x) => x.poll)).size).toBe(batches.length);
    // The first poll saw all N turn RUNNING; its tick took one slice, the rest came from later polls.
    expect(batches[0]?.changes).toHaveLength(STATE_SLICE);
    expect(b.changesCarriedOver).toBeGreaterThan(0);
    // Within a tick, the ends come before the other changes.
    for (const { changes } of batches) {
      const firstOther = changes.findIndex((c) => !c.terminal);
      if (firstOther >= 0) expect(changes.slice(firstOther).every((c) => !c.terminal)).toBe(true);
    }
    // Each job's states are told in order, none twice; every job judged and archived once.
    const seen = new Map<string, string[]>();
    for (const { changes } of batches)
      for (const c of changes) seen.set(c.jobId, [...(seen.get(c.jobId) ?? []), c.state]);
    expect(seen.size).toBe(N);
    for (const states of seen.values()) expect(states.at(-1)).toBe('COMPLETED');
    for (const states of seen.values()) expect(new Set(states).size).toBe(states.length);
    expect(finals.size).toBe(N);
    expect([...finals.values()].every((n) => n === 1)).toBe(true);
    expect(scheduler.duplicatesInAPoll).toBe(0);
    const archived = archivedLines(out);
    expect(archived).toHaveLength(N);
    expect(archived.every((j) => j.consumed && j.state === 'COMPLETED')).toBe(true);
  });
});
